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

// The actor picker: as the user types in the Actor field, its datalist is
// filled with the actors whose name or id starts with the text, each
// offered by id with its name beside it. Without script the field is a
// plain actor id filter.
(function () {
  "use strict";
  var input = document.getElementById("f-actor");
  var list = document.getElementById("f-actor-list");
  if (!input || !list || !window.fetch) return;
  var src = input.getAttribute("data-src"), timer = null, asked = null;

  function fill(options) {
    list.textContent = "";
    options.forEach(function (o) {
      var opt = document.createElement("option");
      opt.value = o.value;
      opt.label = o.label;
      opt.textContent = o.label;
      list.appendChild(opt);
    });
  }

  function lookup() {
    var prefix = input.value;
    if (prefix === asked) return;
    asked = prefix;
    var url = src + (src.indexOf("?") < 0 ? "?" : "&") + "prefix=" + encodeURIComponent(prefix);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (options) { if (input.value === prefix) fill(options); })
      .catch(function () { /* the field still filters by what is typed */ });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(lookup, 150);
  });
  input.addEventListener("focus", lookup);
})();
