from .test_relevance import RECALL_KEY


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    for report in config.stash.get(RECALL_KEY, []):
        terminalreporter.write_sep("-", "search recall@5")
        terminalreporter.write_line(
            f"{report['database']}: ours {report['recall_at_5']:.3f}, "
            f"Wagtail stock {report['stock_recall_at_5']:.3f} "
            f"({report['queries']} queries)"
        )
