/* page.js — progressive enhancement of the pharos status pages: refreshes
 * states every 15 s from /api/v1/checks (and firing alerts from
 * /api/v1/alerts) without reloading, and shows times in local and relative
 * form. The server-rendered page is complete without it. Every value from
 * the API goes into the DOM through textContent, never as markup. A big
 * fleet's page (data-paged: one page of its list) refreshes from itself
 * instead: the same URL fetched again, its <main> swapped in, so it never
 * asks for every check. */
(function () {
	"use strict";

	var REFRESH_MS = 15000;
	var LABELS = { up: "Up", down: "Down", pending: "Pending", maintenance: "Maintenance",
		blocked: "Blocked", degraded: "Degraded" };
	var body = document.body;
	var page = body.getAttribute("data-page");
	var paged = body.hasAttribute("data-paged");
	var lastOk = null;
	var failed = false;

	function el(tag, cls, text) {
		var e = document.createElement(tag);
		if (cls) e.className = cls;
		if (text !== undefined && text !== null) e.textContent = String(text);
		return e;
	}

	/* --- times --- */
	function rel(ms) {
		var s = Math.round((Date.now() - ms) / 1000);
		var fut = s < 0;
		s = Math.abs(s);
		var t;
		if (s < 5) return "just now";
		if (s < 60) t = s + " s";
		else if (s < 3600) t = Math.floor(s / 60) + " min";
		else if (s < 86400) t = Math.floor(s / 3600) + " h " + Math.floor(s % 3600 / 60) + " min";
		else t = Math.floor(s / 86400) + " d " + Math.floor(s % 86400 / 3600) + " h";
		return fut ? "in " + t : t + " ago";
	}
	function pad(n) { return n < 10 ? "0" + n : "" + n; }
	function local(d) {
		var today = new Date();
		var hm = pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
		if (d.toDateString() === today.toDateString()) return hm;
		return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + hm;
	}
	function renderTime(t) {
		var d = new Date(t.getAttribute("datetime"));
		if (isNaN(d.getTime())) return;
		if (!t.hasAttribute("data-utc")) {
			t.setAttribute("data-utc", t.textContent);
			t.title = t.textContent;
		}
		t.textContent = local(d) + " (" + rel(d.getTime()) + ")";
	}
	/* "07:24" in local time (with the date when not today), for incidents. */
	function renderHm(t) {
		var d = new Date(t.getAttribute("datetime"));
		if (isNaN(d.getTime())) return;
		if (!t.hasAttribute("data-utc")) {
			t.setAttribute("data-utc", t.textContent);
			t.title = t.textContent;
		}
		var hm = pad(d.getHours()) + ":" + pad(d.getMinutes());
		t.textContent = d.toDateString() === new Date().toDateString() ? hm
			: d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + hm;
	}
	function renderTimes(root) {
		var ts = (root || document).querySelectorAll("time[data-rel]");
		for (var i = 0; i < ts.length; i++) renderTime(ts[i]);
		ts = (root || document).querySelectorAll("time[data-hm]");
		for (i = 0; i < ts.length; i++) renderHm(ts[i]);
	}
	function setUpdated(date) {
		var box = document.getElementById("updated");
		if (!box) return;
		var t = el("time");
		t.setAttribute("datetime", date.toISOString());
		t.setAttribute("data-rel", "");
		t.textContent = date.toISOString();
		box.textContent = "";
		box.appendChild(t);
		renderTime(t);
		if (failed) box.appendChild(el("span", "stale", " · refresh failed, retrying"));
	}

	/* --- building blocks --- */
	function statePill(state) {
		var s = el("span", "state st-" + (LABELS[state] ? state : "pending"));
		var ic = el("span", "ic");
		ic.setAttribute("aria-hidden", "true");
		s.appendChild(ic);
		s.appendChild(document.createTextNode(LABELS[state] || String(state)));
		return s;
	}
	function pct(v) {
		if (typeof v !== "number" || v < 0) return "n/a";
		if (v >= 100) return "100%";
		return (Math.floor(v * 100) / 100).toFixed(2) + "%";
	}
	function upClass(v) {
		if (typeof v !== "number" || v < 0) return "u-n";
		return v >= 99.9 ? "u-g" : v >= 99 ? "u-y" : v >= 95 ? "u-o" : "u-r";
	}
	/* As the server writes durations (page_fmt_ms): "850 µs", "42.0 ms", "1.25 s". */
	function fmtMs(ms) {
		if (ms < 1) return Math.round(ms * 1000) + " µs";
		if (ms < 100) return ms.toFixed(1) + " ms";
		if (ms < 1000) return Math.round(ms) + " ms";
		return (ms / 1000).toFixed(2) + " s";
	}
	function getJSON(url) {
		return fetch(url, { cache: "no-store", headers: { Accept: "application/json" } })
			.then(function (r) {
				if (!r.ok) { var e = new Error("HTTP " + r.status); e.status = r.status; throw e; }
				return r.json();
			});
	}

	/* A fleet: each location cell of a row (as page_fleet.c writes it) from
	 * the check's "locations". */
	function updateLocs(row, locs) {
		if (!locs || typeof locs !== "object") return;
		var cells = row.querySelectorAll(".loc[data-loc]");
		for (var i = 0; i < cells.length; i++) {
			var name = cells[i].getAttribute("data-loc");
			var l = locs[name];
			if (!l || !l.last) continue;
			var word = l.stale ? "stale" : l.state;
			var dur = fmtMs(l.last.duration_ms);
			cells[i].className = "loc st-" + (l.stale ? "pending" : l.state);
			cells[i].title = name + ": " + word + ", " + dur;
			cells[i].querySelector(".vh").textContent = name + " " + word;
			cells[i].lastChild.textContent = word === "up" ? dur : word;
		}
	}

	/* --- the index page --- */
	function checkLink(name) {
		var a = el("a", null, name);
		a.href = "/check/" + encodeURIComponent(name);
		return a;
	}
	function updateRows(checks) {
		var rows = {};
		var list = document.querySelectorAll("li.check[data-name]");
		for (var i = 0; i < list.length; i++) rows[list[i].getAttribute("data-name")] = list[i];
		var n = { up: 0, down: 0, pending: 0, maintenance: 0, blocked: 0, degraded: 0 };
		var maint = [];
		var groupDown = new Map();
		checks.forEach(function (c) {
			if (n[c.state] !== undefined) n[c.state]++;
			if (c.state === "maintenance") maint.push(c.name);
			var row = rows[c.name];
			if (!row) return;
			if (row.getAttribute("data-state") !== c.state) {
				row.setAttribute("data-state", c.state);
				var old = row.querySelector(".state");
				if (old) old.replaceWith(statePill(c.state));
			}
			updateLocs(row, c.locations);
			var rt = row.querySelector(".rt-cur");
			if (rt && c.last && typeof c.last.duration_ms === "number") rt.textContent = fmtMs(c.last.duration_ms);
			var up = c.uptime && typeof c.uptime === "object" ? c.uptime["24h"] : null;
			var box = row.querySelector(".up24");
			if (box && typeof up === "number") {
				box.className = "up24 " + upClass(up);
				box.querySelector("b").textContent = pct(up);
			}
			var sec = row.closest("section.group");
			if (sec) groupDown.set(sec, (groupDown.get(sec) || 0) +
				(c.state === "down" || c.state === "blocked" ? 1 : 0));
		});
		groupDown.forEach(function (down, sec) {
			var cnt = sec.querySelector(".g-count");
			if (!cnt) return;
			var total = sec.querySelectorAll("li.check").length;
			cnt.textContent = total + (total === 1 ? " check" : " checks");
			if (down) {
				cnt.appendChild(document.createTextNode(" · "));
				cnt.appendChild(el("span", "g-down", down + " down"));
			}
		});
		var failing = n.down + n.blocked;
		var sum = document.getElementById("summary");
		var text = document.getElementById("summary-text");
		if (sum && text) {
			sum.className = "summary " + (failing ? "s-down" : n.degraded ? "s-degraded"
				: n.up ? "s-up" : "s-pending");
			text.textContent = failing ? failing + (failing === 1 ? " check down" : " checks down")
				: n.degraded ? n.degraded + (n.degraded === 1 ? " check degraded" : " checks degraded")
				: checks.length === 0 ? "No checks configured"
				: n.up === 0 && n.pending ? "Waiting for the first results"
				: "All systems operational";
		}
		var counts = document.getElementById("counts");
		if (counts) counts.textContent = checks.length + (checks.length === 1 ? " check" : " checks") +
			" · " + n.up + " up · " + failing + " down" +
			(n.degraded ? " · " + n.degraded + " degraded" : "") + (n.pending ? " · some pending" : "");
		var mb = document.getElementById("maint");
		if (mb) {
			var ul = mb.querySelector("ul");
			ul.textContent = "";
			maint.slice(0, 50).forEach(function (name) {
				var li = el("li");
				li.appendChild(checkLink(name));
				ul.appendChild(li);
			});
			if (maint.length > 50) ul.appendChild(el("li", null, "and " + (maint.length - 50) + " more"));
			mb.querySelector(".n").textContent = maint.length;
			mb.hidden = maint.length === 0;
		}
	}
	function updateAlerts(doc, onlyCheck) {
		var box = document.getElementById("alerts");
		if (!box || !doc || !Array.isArray(doc.alerts)) return;
		var firing = doc.alerts.filter(function (a) {
			return a && a.state === "firing" && (!onlyCheck || a.check === onlyCheck);
		});
		var ul = box.querySelector("ul");
		ul.textContent = "";
		firing.forEach(function (a) {
			var li = el("li");
			li.appendChild(el("strong", null, a.rule));
			if (a.check) {
				li.appendChild(document.createTextNode(" on "));
				li.appendChild(checkLink(a.check));
			}
			if (a.severity) { li.appendChild(document.createTextNode(" ")); li.appendChild(el("span", "sev", a.severity)); }
			if (a.value) { li.appendChild(document.createTextNode(" ")); li.appendChild(el("span", "val", "value " + a.value)); }
			var since = a.fired || a.since;
			if (since) {
				var s = el("span", "since", "since ");
				var t = el("time", null, since);
				t.setAttribute("datetime", since);
				t.setAttribute("data-rel", "");
				s.appendChild(t);
				li.appendChild(document.createTextNode(" "));
				li.appendChild(s);
				renderTime(t);
			}
			ul.appendChild(li);
		});
		box.querySelector(".n").textContent = firing.length;
		box.hidden = firing.length === 0;
	}

	/* --- the check page --- */
	function updateCheck(c) {
		var st = document.getElementById("check-state");
		if (st) { st.textContent = ""; st.appendChild(statePill(c.state)); }
		var last = document.getElementById("check-last");
		if (!last || !c.last) return;
		last.textContent = "";
		var t = el("time", null, c.last.ts);
		t.setAttribute("datetime", c.last.ts);
		t.setAttribute("data-rel", "");
		last.appendChild(t);
		renderTime(t);
		var ms = c.last.duration_ms;
		var dur = ms < 1 ? Math.round(ms * 1000) + " µs" : ms < 100 ? ms.toFixed(1) + " ms"
			: ms < 1000 ? Math.round(ms) + " ms" : (ms / 1000).toFixed(2) + " s";
		last.appendChild(document.createTextNode(" · " + dur + " · "));
		last.appendChild(el("span", c.last.ok ? "ok" : "err", c.last.ok ? "ok" : c.last.error));
		if (c.last.message) {
			last.appendChild(document.createTextNode(" · "));
			last.appendChild(el("span", "msg", c.last.message));
		}
	}

	/* --- a big fleet's page: itself again --- */
	function refreshPaged() {
		return fetch(location.href, { cache: "no-store", headers: { Accept: "text/html" } })
			.then(function (r) {
				if (!r.ok) { var e = new Error("HTTP " + r.status); e.status = r.status; throw e; }
				return r.text();
			})
			.then(function (html) {
				/* Parsed inert (no script runs); our own server-escaped page. */
				var doc = new DOMParser().parseFromString(html, "text/html");
				var fresh = doc.querySelector("main");
				var cur = document.querySelector("main");
				if (!fresh || !cur) throw new Error("no main");
				cur.replaceWith(document.importNode(fresh, true));
				renderTimes();
			});
	}

	/* --- the loop --- */
	var busy = false;
	function refresh() {
		if (busy || document.hidden) return;
		busy = true;
		var name = body.getAttribute("data-check");
		var main = page === "check" && name
			? getJSON("/api/v1/checks/" + encodeURIComponent(name)).then(updateCheck)
			: paged ? refreshPaged()
			: getJSON("/api/v1/checks").then(function (cs) { if (Array.isArray(cs)) updateRows(cs); });
		/* Alerts are optional: an agent without them answers 404 and the
		 * server-rendered banner stays. A paged page got its banner with
		 * the rest. */
		var alerts = paged ? null : getJSON("/api/v1/alerts").then(function (doc) {
			updateAlerts(doc, page === "check" ? name : null);
		}, function () {});
		Promise.all([main, alerts]).then(function () {
			failed = false;
			lastOk = new Date();
			setUpdated(lastOk);
		}, function () {
			failed = true;
			if (lastOk) setUpdated(lastOk);
		}).then(function () { busy = false; });
	}

	if (page === "index" || page === "check") {
		renderTimes();
		setInterval(refresh, REFRESH_MS);
		setInterval(function () {
			var ts = document.querySelectorAll("time[data-rel]");
			for (var i = 0; i < ts.length && i < 500; i++) renderTime(ts[i]);
		}, 5000);
		document.addEventListener("visibilitychange", function () {
			if (!document.hidden) refresh();
		});
	}
})();
