/*
 * One page per create form, however fast the editor clicks.
 *
 * Wagtail 8 autosaves the create form in the background: the first autosave
 * creates the page as a draft and then points the form at that page's edit
 * view. A click on 保存草稿 / 提交审核 / 发布 while that first autosave was still
 * on its way posted the form to the create view a second time — and a second
 * page with the same title appeared (core/forms.py gives its slug a "-2").
 * An autosave that started after the click did the same.
 *
 * So, on the editor's submit: autosave stops for good (the submit carries the
 * form), and if an autosave is on its way the submit waits for its answer and
 * then goes to wherever the form points by then (the new page's edit view).
 * Used on the create and edit forms of pages (home/wagtail_hooks.py).
 */
(function () {
  "use strict";

  function submitAfterAutosave() {
    var form = document.querySelector(
      'form[data-edit-form][data-controller~="w-autosave"]'
    );
    if (!form) {
      return;
    }
    var inFlight = false;
    var held = null; // a submit held back until the autosave's answer

    form.addEventListener("w-autosave:save", function (event) {
      if (form.dataset.wAutosaveActiveValue === "false") {
        event.preventDefault(); // a debounced autosave after the submit: skip it
        return;
      }
      inFlight = true;
    });

    function send(submitter) {
      // form.submit() fires no submit event and sends no submitter: its
      // name (action-publish, action-submit …) goes as a hidden field.
      if (submitter && submitter.name) {
        var field = document.createElement("input");
        field.type = "hidden";
        field.name = submitter.name;
        field.value = submitter.value;
        form.appendChild(field);
      }
      if (submitter && submitter.hasAttribute("formaction")) {
        form.action = submitter.formAction;
      }
      form.submit();
    }

    function answered() {
      inFlight = false;
      if (held !== null) {
        var submitter = held.submitter;
        held = null;
        send(submitter);
      }
    }
    form.addEventListener("w-autosave:success", answered);
    form.addEventListener("w-autosave:error", answered);

    form.addEventListener(
      "submit",
      function (event) {
        form.dataset.wAutosaveActiveValue = "false";
        if (!inFlight || event.defaultPrevented) {
          return;
        }
        event.preventDefault();
        held = { submitter: event.submitter || null };
      },
      true
    );
  }

  // The editor's scripts sit in the page's <head>: the form comes later.
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", submitAfterAutosave);
  } else {
    submitAfterAutosave();
  }
})();
