// peerchain explorer: what JavaScript adds to pages that work without it. Ages stay current; on the
// dashboard, /events replaces each section with the markup the node rendered (and escaped) for it, and the
// charts become uPlot charts fed with the series. Nothing here builds markup from data.
(function () {
  "use strict";

  function ago(s) {
    if (s < 1) return "just now";
    if (s < 60) return Math.floor(s) + " s ago";
    if (s < 3600) return Math.floor(s / 60) + " min ago";
    if (s < 86400) return Math.floor(s / 3600) + " h ago";
    return Math.floor(s / 86400) + " d ago";
  }

  function refreshAges() {
    const now = Date.now() / 1000;
    for (const t of document.querySelectorAll("time[data-t]")) {
      t.textContent = ago(now - Number(t.getAttribute("data-t")));
    }
  }
  setInterval(refreshAges, 1000);

  // Times in the reader's own zone (the page says UTC without JavaScript).
  function localTimes(root) {
    for (const t of root.querySelectorAll("time.local")) {
      const d = new Date(t.getAttribute("datetime"));
      if (!isNaN(d)) t.textContent = d.toLocaleString();
    }
  }

  // A hash or address cut by the page's width gets its copy button; a page's own subject always has one.
  function showCopies(root) {
    for (const b of root.querySelectorAll("button.copy")) {
      const shown = b.previousElementSibling;
      b.hidden = !(b.parentElement.classList.contains("always") ||
        (shown && shown.scrollWidth > shown.clientWidth + 1));
    }
  }

  // navigator.clipboard exists only in secure contexts; a LAN viewer on plain http gets the old way: a
  // selected, off-screen text area and execCommand("copy"). Where even that fails, the value is selected on
  // the page for the reader to copy.
  function copyText(text) {
    if (navigator.clipboard && globalThis.isSecureContext) {
      return navigator.clipboard.writeText(text).then(() => true, () => copyByCommand(text));
    }
    return Promise.resolve(copyByCommand(text));
  }

  function copyByCommand(text) {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    area.setSelectionRange(0, text.length);
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (_e) {
      ok = false;
    }
    area.remove();
    return ok;
  }

  document.addEventListener("click", (e) => {
    const button = e.target instanceof Element ? e.target.closest("button.copy") : null;
    if (!button) return;
    const text = button.getAttribute("data-copy");
    copyText(text).then((ok) => {
      if (!ok) {
        const range = document.createRange();
        range.selectNodeContents(button.previousElementSibling);
        const sel = getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
      }
      button.textContent = ok ? "copied" : "press Ctrl+C";
      setTimeout(() => button.textContent = "copy", 1500);
    });
  });

  function dressUp(root) {
    localTimes(root);
    showCopies(root);
  }
  dressUp(document);
  globalThis.addEventListener("resize", () => showCopies(document));

  // Block, transaction and address pages follow /events: a block or a reorg (and, on an address page, a new
  // transaction) makes the page read itself again, and the fresh <main>, rendered and escaped by the node,
  // replaces this one: pending turns confirmed, confirmations count up, payments appear, without a reload.
  const follow = document.body.getAttribute("data-follow");
  if (follow && "EventSource" in globalThis) followPage(follow.split(" "));

  function followPage(kinds) {
    let timer = null, busy = false, again = false, opened = false;
    function schedule() {
      if (timer === null) timer = setTimeout(refresh, 250);
    }
    function refresh() {
      timer = null;
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      fetch(location.href, { cache: "no-store" })
        .then((r) => r.ok ? r.text() : null)
        .then((text) => {
          if (text === null) return;
          const doc = new DOMParser().parseFromString(text, "text/html");
          const fresh = doc.querySelector("main"), main = document.querySelector("main");
          if (!fresh || !main || fresh.innerHTML === main.innerHTML) return;
          main.replaceChildren(...fresh.childNodes);
          document.title = doc.title;
          refreshAges();
          dressUp(main);
        })
        .catch(() => {})
        .finally(() => {
          busy = false;
          if (again) {
            again = false;
            schedule();
          }
        });
    }
    const source = new EventSource("/events");
    source.addEventListener("open", () => {
      document.body.classList.add("live-on");
      document.body.classList.remove("live-off");
      // Back after a lost connection: what happened meanwhile was missed.
      if (opened) schedule();
      opened = true;
    });
    source.addEventListener("error", () => {
      document.body.classList.add("live-off");
      document.body.classList.remove("live-on");
    });
    if (kinds.includes("blocks")) {
      for (const name of ["block", "reorg", "lagged"]) source.addEventListener(name, schedule);
    }
    if (kinds.includes("txs")) source.addEventListener("tx", schedule);
  }

  if (!document.body.hasAttribute("data-live") || !("EventSource" in globalThis)) return;

  const charts = {};
  const SERIES = {
    interval: { label: "interval", fmt: duration },
    difficulty: { label: "difficulty", fmt: (v) => String(+v.toPrecision(4)) },
    hashrate: { label: "hashes/s", fmt: rate },
  };

  function duration(s) {
    if (Math.abs(s) < 10) return +s.toFixed(1) + " s";
    if (Math.abs(s) < 120) return Math.round(s) + " s";
    if (Math.abs(s) < 7200) return Math.round(s / 60) + " min";
    if (Math.abs(s) < 172800) return Math.round(s / 3600) + " h";
    return Math.round(s / 86400) + " d";
  }

  function rate(v) {
    const units = ["H/s", "kH/s", "MH/s", "GH/s", "TH/s"];
    let i = 0;
    while (v >= 1000 && i < units.length - 1) {
      v /= 1000;
      i++;
    }
    return (i === 0 ? Math.round(v) : v.toFixed(2)) + " " + units[i];
  }

  // The chart library loads after the page (the dashboard reads at once; the charts follow).
  let lastSeries = null;
  globalThis.addEventListener("load", () => {
    const script = document.createElement("script");
    script.src = document.body.getAttribute("data-charts");
    script.addEventListener("load", () => lastSeries && drawCharts(lastSeries));
    document.head.appendChild(script);
  });

  function drawCharts(series) {
    lastSeries = series;
    if (!globalThis.uPlot) return; // the server's SVG stays until the library is here
    for (const box of document.querySelectorAll("#charts .chart")) {
      const name = box.getAttribute("data-series");
      const spec = SERIES[name];
      if (!spec) continue;
      const data = [series.height, series[name]];
      const chart = charts[name];
      if (chart) {
        chart.setData(data);
        continue;
      }
      const caption = box.querySelector("figcaption");
      const title = caption ? caption.firstChild.textContent.trim() : name;
      box.textContent = "";
      charts[name] = new globalThis.uPlot(
        {
          title: title,
          width: Math.max(240, box.clientWidth || 300),
          height: 150,
          scales: { x: { time: false } },
          // Room for the widest value ("999.99 MH/s"); the caption above names the series, so no legend.
          axes: [
            { label: "block height", size: 40 },
            { size: 86, values: (_u, vals) => vals.map((v) => v == null ? "" : spec.fmt(v)) },
          ],
          series: [{ label: "height" }, {
            label: spec.label,
            stroke: "#3b6fb6",
            width: 1.5,
            spanGaps: true,
            value: (_u, v) => v == null ? "–" : spec.fmt(v),
          }],
          legend: { show: false },
        },
        data,
        box,
      );
    }
  }

  globalThis.addEventListener("resize", () => {
    for (const name in charts) {
      const box = charts[name].root.parentElement;
      charts[name].setSize({ width: Math.max(240, box.clientWidth), height: 150 });
    }
  });

  let source;
  function connect() {
    source = new EventSource("/events?html=1");
    source.addEventListener("open", () => {
      document.body.classList.add("live-on");
      document.body.classList.remove("live-off");
    });
    source.addEventListener("error", () => {
      document.body.classList.add("live-off");
      document.body.classList.remove("live-on");
    });
    source.addEventListener("section", (e) => {
      const m = JSON.parse(e.data);
      const el = document.getElementById(m.id);
      if (el) {
        el.innerHTML = m.html; // rendered and escaped by the node's templates
        dressUp(el);
      }
      if (m.id === "status") {
        const h = el && el.querySelector(".height");
        if (h) document.title = "height " + h.textContent + " · peerchain explorer";
      }
    });
    source.addEventListener("charts", (e) => drawCharts(JSON.parse(e.data)));
  }
  connect();
})();
