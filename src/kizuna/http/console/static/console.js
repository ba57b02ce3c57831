// Progressive enhancement only: every page works without it. Marks the table row under focus.
document.addEventListener("DOMContentLoaded", function () {
  document.documentElement.classList.add("js");
});
