// 签到表 (templates/events/admin/roster.html): the 打印签到表 button opens the
// browser's print dialog. A file of its own: the pages' CSP allows no inline script.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-roster-print]").forEach(function (button) {
    button.addEventListener("click", function () {
      window.print();
    });
  });
});
