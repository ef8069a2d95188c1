import pytest

RECALL_KEY = pytest.StashKey[list]()


@pytest.fixture
def recall_reports(request) -> list:
    """Where test_relevance leaves its figures for the summary at the end."""
    return request.config.stash.setdefault(RECALL_KEY, [])


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    for report in config.stash.get(RECALL_KEY, []):
        terminalreporter.write_sep("-", "search recall@5")
        terminalreporter.write_line(
            f"{report['database']}: ours {report['recall_at_5']:.3f}, "
            f"Wagtail stock {report['stock_recall_at_5']:.3f} "
            f"({report['queries']} queries)"
        )
        own = report["residents_words"]
        terminalreporter.write_line(
            f"  residents' own words: ours {own['recall_at_5']:.3f}, Wagtail stock "
            f"{own['stock_recall_at_5']:.3f} ({own['queries']} queries; "
            + ", ".join(
                f"{kind} {own[kind]:.3f}"
                for kind in sorted(own)
                if kind not in {"queries", "recall_at_5", "stock_recall_at_5"}
            )
            + f"); the others: {report['others_recall_at_5']:.3f}"
        )
