// The sign-up form says 加入候补 (and shows the waitlist note) while a full
// session is chosen; without this script the server's wording for the
// preselected session stays, and each full session's label says 已满，可候补.
(function () {
  "use strict";
  var form = document.querySelector("form[action$='signup/']");
  // One session only (a hidden field): the server's wording is right.
  if (!form || !form.querySelector("input[type='radio'][name='occurrence']")) return;
  var button = form.querySelector("button[data-waitlist-label]");
  var note = form.querySelector("[data-waitlist-note]");
  function update() {
    var chosen = form.querySelector("input[name='occurrence']:checked");
    var full = !!(chosen && chosen.hasAttribute("data-full"));
    if (button) button.textContent = full ? button.dataset.waitlistLabel : button.dataset.label;
    if (note) note.hidden = !full;
  }
  form.addEventListener("change", function (event) {
    if (event.target.name === "occurrence") update();
  });
  update();
})();
