// Sizes a resident's eye and finger meet, measured in the page as laid out
// (tests/e2e/test_elder_mode.py): text runs in <main> under `minText` px, facts that
// decide "can I go" (time, place, seats) under `minFact` px, and controls whose tap
// target is under `minWidth` × `minHeight` px. A radio button or checkbox is tapped
// through its label, so the label is its target.
({ minText, minFact, minWidth, minHeight }) => {
    const shown = (el) =>
        el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true }) &&
        (() => {
            const r = el.getBoundingClientRect();
            return r.width > 1 && r.height > 1 && r.right > 0;
        })();
    const describe = (el) => {
        const text = (el.innerText || el.value || el.getAttribute("aria-label") || "")
            .trim().replace(/\s+/g, " ").slice(0, 30);
        return `${el.tagName.toLowerCase()}${el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : ""} “${text}”`;
    };
    const size = (el) => parseFloat(getComputedStyle(el).fontSize);
    const main = document.querySelector("main");
    const smallText = [];
    let textRuns = 0;
    const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const el = node.parentElement;
        if (!node.textContent.trim() || el.closest("svg, script, style, option, .hp")) continue;
        if (!shown(el)) continue;
        textRuns += 1;
        if (size(el) < minText - 0.01) {
            smallText.push(`${size(el).toFixed(1)}px ${describe(el)}`);
        }
    }
    const FACTS = [
        ".card--event .card__text", ".card--event .badge", ".card__sessions a",
        ".event__facts dd", ".signup__seats", ".dates li", ".search-result__when",
        ".my-item__facts", ".my-item__status .badge",
    ].map((s) => `main ${s}`).join(", ");
    const smallFacts = [...document.querySelectorAll(FACTS)]
        .filter((el) => shown(el) && size(el) < minFact - 0.01)
        .map((el) => `${size(el).toFixed(1)}px ${describe(el)}`);
    const CONTROLS = "a[href], button, input:not([type=hidden]), select, textarea, summary";
    const smallControls = [];
    let controls = 0;
    for (const el of document.body.querySelectorAll(CONTROLS)) {
        if (el.closest(".hp") || el.matches(".skip-link")) continue;
        let target = el;
        if (el.matches("input[type=radio], input[type=checkbox]")) {
            target = el.closest("label") || (el.id && document.querySelector(`label[for="${el.id}"]`)) || el;
        }
        if (!shown(target)) continue;
        controls += 1;
        // An inline link broken over two lines: its box is each line's.
        const rects = [...target.getClientRects()];
        const r = rects.length > 1 ? rects.reduce((a, b) => (a.height * a.width > b.height * b.width ? a : b)) : target.getBoundingClientRect();
        if (r.width < minWidth - 0.5 || r.height < minHeight - 0.5) {
            smallControls.push(`${Math.round(r.width)}×${Math.round(r.height)} ${describe(el)}`);
        }
    }
    return { textRuns, smallText, smallFacts, controls, smallControls };
}
