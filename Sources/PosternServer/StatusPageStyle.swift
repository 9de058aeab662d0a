/// The status page's style sheet, inlined in the page; its SHA-256 is the only style the page's
/// Content-Security-Policy allows.
enum StatusPageStyle {
    static let source = #"""
        :root{--bad:#b00020;--badbg:#fde7ea;--ok:#1b7f3b;--line:#d8dbe0;--muted:#5f6670;--accent:#2456a6}
        *{box-sizing:border-box}
        body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
        color:#1d2125;background:#f6f7f9}
        header{display:flex;gap:1em;align-items:baseline;flex-wrap:wrap;padding:.6em 1.2em;background:#1f2a3a;color:#fff}
        header h1{font-size:1.25em;margin:0}
        header .note{color:#c9d3e0}
        main{padding:.4em 1.2em 2em;display:grid;gap:1em;grid-template-columns:repeat(auto-fit,minmax(460px,1fr))}
        section{background:#fff;border:1px solid var(--line);border-radius:6px;padding:.6em .9em;min-width:0;overflow-x:auto}
        section.wide{grid-column:1/-1}
        h2{font-size:1.05em;margin:.1em 0 .5em}
        table{border-collapse:collapse;width:100%}
        th,td{text-align:left;padding:.25em .5em;border-bottom:1px solid var(--line);white-space:nowrap;vertical-align:top}
        th{font-weight:600;color:var(--muted);font-size:.9em}
        td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
        tr.bad td{background:var(--badbg);color:var(--bad)}
        .bad{color:var(--bad);font-weight:600}
        .good{color:var(--ok)}
        .muted{color:var(--muted)}
        dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;margin:0}
        dt{color:var(--muted)}
        dd{margin:0;word-break:break-word}
        button{font:inherit;padding:.1em .6em;border:1px solid var(--accent);background:#fff;color:var(--accent);
        border-radius:4px;cursor:pointer}
        button:hover{background:var(--accent);color:#fff}
        input{font:inherit;padding:.25em .5em;border:1px solid var(--line);border-radius:4px}
        #filter{width:18em;margin-bottom:.5em}
        #login{display:flex;gap:.5em;align-items:center}
        [hidden]{display:none!important}
        svg{width:100%;height:140px;display:block}
        svg .axis{stroke:var(--line);fill:none}
        svg .sessions{stroke:var(--accent);fill:none;stroke-width:2}
        svg .ok{stroke:var(--ok);fill:none;stroke-width:2}
        svg .failed{stroke:var(--bad);fill:none;stroke-width:2}
        svg text{font-size:11px;fill:var(--muted)}
        .legend span{margin-right:1em}
        .suites{white-space:normal;font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.85em}
        """#
}
