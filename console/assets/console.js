// Trail console: the live tail. Everything else works without script.
// "Follow live" is a toggle button: its label stays, its pressed state
// (and the dot beside the label) tells whether it follows.
(function () {
  "use strict";
  var button = document.getElementById("tail");
  var rows = document.getElementById("rows");
  var live = document.getElementById("live");
  if (!button || !rows) return;
  var source = null, count = 0;

  function say(text) { if (live) live.textContent = text; }

  function stop(message) {
    if (source) source.close();
    source = null;
    button.setAttribute("aria-pressed", "false");
    button.removeAttribute("data-state");
    say(message || "");
  }

  function start() {
    source = new EventSource(button.getAttribute("data-src"));
    button.setAttribute("aria-pressed", "true");
    say("Connecting…");
    source.addEventListener("open", function () {
      button.setAttribute("data-state", "open");
      say(count ? "" : "Following new events.");
    });
    source.addEventListener("error", function () {
      button.setAttribute("data-state", "retrying");
      say("Connection lost; retrying…");
    });
    source.addEventListener("row", function (ev) {
      var msg = JSON.parse(ev.data);
      if (rows.querySelector('tr[data-id="' + msg.id + '"]')) return;
      var empty = rows.querySelector("tr.empty");
      if (empty) empty.remove();
      rows.insertAdjacentHTML("afterbegin", msg.html);
      rows.firstElementChild.classList.add("new");
      count++;
      say(count + " new event" + (count === 1 ? "" : "s") + " since you started following.");
    });
    source.addEventListener("end", function (ev) { stop("Stopped: " + ev.data + "."); });
  }

  button.addEventListener("click", function () {
    if (source) stop("Stopped following."); else start();
  });
})();
