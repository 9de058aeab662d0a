/// The status page's script, inlined in the page; its SHA-256 is the only script the page's
/// Content-Security-Policy allows. Every server value goes in with `textContent`, never as HTML.
enum StatusPageScript {
    static let source = #"""
        "use strict";
        // Postern's status page. Every value from the server goes in with textContent or as an SVG number: never
        // as HTML. The admin token (when one is needed) lives in this tab's sessionStorage only.
        (function () {
          const REFRESH_MS = 2000;
          const KEY = "postern-admin-token";
          const RESULTS = ["ok", "rejected", "unknown-user", "unavailable", "throttled", "max-sessions-per-user"];
          const $ = (id) => document.getElementById(id);
          let last = null;
          let access = "open";
          let timer = 0;

          function token() { return sessionStorage.getItem(KEY); }

          function headers() {
            const h = {};
            const t = token();
            if (t) h.Authorization = "Bearer " + t;
            return h;
          }

          function cell(value, cls) {
            const td = document.createElement("td");
            if (value instanceof Node) td.appendChild(value);
            else td.textContent = value === null || value === undefined || value === "" ? "–" : String(value);
            if (cls) td.className = cls;
            return td;
          }

          function row(cells, cls) {
            const tr = document.createElement("tr");
            for (const c of cells) tr.appendChild(Array.isArray(c) ? cell(c[0], c[1]) : cell(c));
            if (cls) tr.className = cls;
            return tr;
          }

          function button(label, onClick) {
            const b = document.createElement("button");
            b.type = "button";
            b.textContent = label;
            b.addEventListener("click", onClick);
            return b;
          }

          function bytes(n) {
            if (n < 1024) return n + " B";
            const units = ["KiB", "MiB", "GiB", "TiB"];
            let v = n / 1024, i = 0;
            while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
            return v.toFixed(v < 10 ? 1 : 0) + " " + units[i];
          }

          function age(seconds) {
            seconds = Math.max(0, Math.floor(seconds));
            const d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600);
            const m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
            if (d) return d + "d " + h + "h";
            if (h) return h + "h " + m + "m";
            if (m) return m + "m" + (s ? " " + s + "s" : "");
            return s + "s";
          }

          function ms(v) { return v === null || v === undefined ? "–" : v.toFixed(v < 10 ? 2 : 0) + " ms"; }

          function problem(text) { $("problem").textContent = text || ""; }

          function renderProcess(p) {
            const reload = p.last_reload;
            const items = [
              ["Version", p.version],
              ["Uptime", age(p.uptime_s) + " (since " + p.started + ")"],
              ["Config generation", p.generation],
              ["Last reload", reload ? (reload.succeeded ? "ok" : "REFUSED") + " at " + reload.at +
                " (generation " + reload.generation + ")" : "–"],
              ["Reload errors", reload && reload.errors.length ? reload.errors.join("; ") : "none"],
              ["Draining", p.draining ? "yes" : "no"],
              ["Actions", p.access === "token" ? "with the admin token" : "open (loopback, no token configured)"]
            ];
            const dl = $("process");
            const nodes = [];
            for (const [name, value] of items) {
              const dt = document.createElement("dt");
              dt.textContent = name;
              const dd = document.createElement("dd");
              dd.textContent = String(value);
              if ((name === "Last reload" && reload && !reload.succeeded) || (name === "Draining" && p.draining) ||
                (name === "Reload errors" && reload && reload.errors.length)) dd.className = "bad";
              nodes.push(dt, dd);
            }
            dl.replaceChildren(...nodes);
            $("summary").textContent = "generation " + p.generation + " · up " + age(p.uptime_s) +
              (p.draining ? " · DRAINING" : "");
          }

          function renderListeners(listeners) {
            $("listeners").tBodies[0].replaceChildren(...listeners.map((l) => row([
              l.name, l.protocol, l.addresses.join(" "), l.tls, [l.sessions, "num"],
              ...RESULTS.map((r) => [l.logins[r], r === "ok" || !l.logins[r] ? "num" : "num bad"]),
              [l.login_window_s + " s", "num"]
            ], l.bound ? "" : "bad")));
          }

          function renderBackends(backends) {
            $("backends").tBodies[0].replaceChildren(...backends.map((b) => {
              const breaker = b.breaker === "open" ? "open (retry in " + b.retry_in_s + " s)" : b.breaker;
              const action = b.drained
                ? button("Undrain", () => backendAction("undrain", b.backend))
                : button("Drain", () => backendAction("drain", b.backend));
              const tr = row([b.backend, breaker, b.drained ? "yes" : "no", [b.sessions, "num"],
                [ms(b.connect_p50_ms), "num"], [ms(b.connect_p99_ms), "num"], [b.recent_failures, "num"],
                b.last_error, access === "none" ? "" : action], b.failing ? "bad" : "");
              tr.dataset.backend = b.backend;
              return tr;
            }));
          }

          function backendAction(what, backend) {
            if (!confirm((what === "drain" ? "Drain " : "Undrain ") + backend + "?")) return;
            post("backends/" + what, { backend: backend });
          }

          function matches(s, filter) {
            if (!filter) return true;
            return [s.user, s.client, s.listener, s.backend, s.state].some((v) => v && v.toLowerCase().includes(filter));
          }

          function renderSessions(report) {
            const filter = $("filter").value.trim().toLowerCase();
            const now = Date.now() / 1000;
            const shown = report.sessions.filter((s) => matches(s, filter));
            $("session-count").textContent = "(" + shown.length + " shown of " + report.sessions_total +
              (report.sessions_total > report.sessions.length ? "; the newest " + report.sessions.length + " listed" : "") +
              ")";
            $("sessions").tBodies[0].replaceChildren(...shown.map((s) => {
              const tls = [s.client_tls ? s.client_tls.version : "plain", s.backend_tls ? "→ " + s.backend_tls.version : ""]
                .join(" ").trim();
              const kick = s.user === null ? "" : button("Kick", () => {
                if (confirm("End every session of user " + JSON.stringify(s.user) + "?")) {
                  post("sessions/kick", { user: s.user });
                }
              });
              const tr = row([s.user, s.client, s.listener, s.backend, s.state,
                age(now - Date.parse(s.started) / 1000) + " ago", [bytes(s.client_in), "num"], [bytes(s.client_out), "num"],
                tls, access === "none" ? "" : kick]);
              tr.dataset.session = s.id;
              return tr;
            }));
          }

          function renderTLS(listeners) {
            const rows = [];
            for (const l of listeners) {
              const t = l.tls_posture;
              if (!t) continue;
              const suites = document.createElement("div");
              suites.className = "suites";
              suites.textContent = t.tls13_ciphersuites.concat(t.tls12_ciphers).join(" ") +
                (t.tls12_ciphers.length ? (t.prefer_server_ciphers ? " (server order)" : " (client order for TLS 1.2)") : "");
              const certs = document.createElement("div");
              for (const c of t.certificates) {
                const line = document.createElement("div");
                line.textContent = c.subject + (c.server_names.length ? " [" + c.server_names.join(", ") + "]" : "") +
                  " · " + c.days_left + " days (" + c.not_after.slice(0, 10) + ")";
                if (c.days_left < 14) line.className = "bad";
                certs.appendChild(line);
              }
              rows.push(row([l.name, t.versions.join(" "), suites, certs]));
            }
            $("tls").tBodies[0].replaceChildren(...rows);
          }

          const SVG = "http://www.w3.org/2000/svg";
          function svgNode(tag, attrs, text) {
            const e = document.createElementNS(SVG, tag);
            for (const k in attrs) e.setAttribute(k, String(attrs[k]));
            if (text !== undefined) e.textContent = text;
            return e;
          }

          // One chart: each series a polyline over the last 15 minutes, scaled to the largest value.
          function chart(id, points, series, labelId, unit) {
            const svg = $(id);
            const W = 600, H = 140, top = 8, bottom = 18;
            const now = Date.now() / 1000;
            // The last 15 minutes, or since the first sample while the process is younger (at least a minute).
            const span = Math.min(900, Math.max(60, points.length ? now - points[0].t : 0));
            let max = 0;
            for (const p of points) for (const s of series) max = Math.max(max, p[s.key]);
            const scale = max > 0 ? max * 1.1 : 1;
            const nodes = [svgNode("path", { class: "axis", d: "M0 " + (H - bottom) + " H" + W })];
            for (const s of series) {
              const coords = points.filter((p) => now - p.t <= span).map((p) => {
                const x = Math.max(0, W - (now - p.t) / span * W);
                const y = H - bottom - p[s.key] / scale * (H - top - bottom);
                return x.toFixed(1) + "," + y.toFixed(1);
              });
              if (coords.length) nodes.push(svgNode("polyline", { class: s.cls, points: coords.join(" ") }));
            }
            nodes.push(svgNode("text", { x: 2, y: H - 4 }, "−" + age(span)), svgNode("text", { x: W - 28, y: H - 4 }, "now"));
            svg.replaceChildren(...nodes);
            $(labelId).textContent = "(peak " + (Number.isInteger(max) ? max : max.toFixed(2)) + unit + ")";
          }

          function render(report) {
            last = report;
            access = report.process.access;
            renderProcess(report.process);
            renderListeners(report.listeners);
            renderBackends(report.backends);
            renderSessions(report);
            renderTLS(report.listeners);
            chart("chart-sessions", report.history, [{ key: "sessions", cls: "sessions" }], "sessions-max", "");
            chart("chart-logins", report.history, [{ key: "logins_ok", cls: "ok" }, { key: "logins_failed", cls: "failed" }],
              "logins-max", "/s");
            document.body.dataset.loaded = String(Date.now());
          }

          // Without a token file on a non-loopback listener the admin API refuses everything but the probes: show
          // what /readyz tells, read-only.
          async function readOnly(message) {
            access = "none";
            problem(message);
            try {
              const r = await fetch("readyz", { cache: "no-store" });
              const ready = await r.json();
              $("summary").textContent = "read-only · generation " + ready.generation + " · " + ready.status;
              $("listeners").tBodies[0].replaceChildren(...Object.keys(ready.listeners).sort().map((name) =>
                row([name, "", ready.listeners[name].join(" ")])));
            } catch (e) {
              problem(message + " (and /readyz did not answer)");
            }
          }

          async function load() {
            clearTimeout(timer);
            try {
              const r = await fetch("status.json", { headers: headers(), cache: "no-store" });
              if (r.status === 401) {
                $("login").hidden = false;
                problem(token() ? "the admin token was refused" : "the admin API needs its bearer token");
                sessionStorage.removeItem(KEY);
                return;
              }
              if (r.status === 403) {
                await readOnly((await r.json()).error);
              } else if (!r.ok) {
                throw new Error("status.json answered " + r.status);
              } else {
                $("login").hidden = true;
                problem("");
                render(await r.json());
              }
            } catch (e) {
              problem("cannot read the admin API: " + e.message);
            }
            timer = setTimeout(load, document.hidden ? REFRESH_MS * 5 : REFRESH_MS);
          }

          async function post(path, fields) {
            try {
              const r = await fetch(path, {
                method: "POST", headers: Object.assign(headers(), { "Content-Type": "application/x-www-form-urlencoded" }),
                body: new URLSearchParams(fields).toString(), cache: "no-store"
              });
              const answer = await r.json();
              if (!r.ok) problem(path + ": " + (answer.error || r.status));
              else problem("");
            } catch (e) {
              problem(path + ": " + e.message);
            }
            load();
          }

          $("login").addEventListener("submit", (event) => {
            event.preventDefault();
            const value = $("token").value.trim();
            if (value) sessionStorage.setItem(KEY, value);
            $("token").value = "";
            load();
          });
          $("filter").addEventListener("input", () => { if (last) renderSessions(last); });
          document.addEventListener("visibilitychange", () => { if (!document.hidden) load(); });
          load();
        })();
        """#
}
