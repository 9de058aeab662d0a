/// The status page's HTML around its style and script: `head` comes before the `<style>` element, `body`
/// between it and the `<script>` element.
enum StatusPageMarkup {
    static let head = #"""
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">
        <link rel="icon" href="data:,">
        <title>Postern status</title>
        """#

    static let body = #"""
        </head>
        <body>
        <header>
        <h1>Postern</h1>
        <span id="summary" class="note">loading…</span>
        <span id="problem" class="bad"></span>
        <form id="login" hidden>
        <label for="token">Admin token</label>
        <input id="token" type="password" autocomplete="off" size="28">
        <button type="submit">Use</button>
        </form>
        </header>
        <main>
        <section>
        <h2>Process</h2>
        <dl id="process"></dl>
        </section>
        <section>
        <h2>Last 15 minutes</h2>
        <div class="legend"><span class="muted">sessions open</span>
        <span id="sessions-max" class="muted"></span></div>
        <svg id="chart-sessions" viewBox="0 0 600 140" preserveAspectRatio="none" role="img"
        aria-label="sessions open"></svg>
        <div class="legend"><span class="good">logins ok/s</span><span class="bad">failed/s</span>
        <span id="logins-max" class="muted"></span></div>
        <svg id="chart-logins" viewBox="0 0 600 140" preserveAspectRatio="none" role="img"
        aria-label="logins per second"></svg>
        </section>
        <section class="wide">
        <h2>Listeners</h2>
        <table id="listeners">
        <thead><tr>
        <th>Name</th>
        <th>Protocol</th>
        <th>Address</th>
        <th>TLS</th>
        <th class="num">Sessions</th>
        <th class="num">Logins ok</th>
        <th class="num">Rejected</th>
        <th class="num">Unknown user</th>
        <th class="num">Unavailable</th>
        <th class="num">Throttled</th>
        <th class="num">Over limit</th>
        <th class="num">Window</th>
        </tr></thead>
        <tbody></tbody>
        </table>
        </section>
        <section class="wide">
        <h2>Backends</h2>
        <table id="backends">
        <thead><tr>
        <th>Backend</th>
        <th>Breaker</th>
        <th>Drained</th>
        <th class="num">Sessions</th>
        <th class="num">Connect p50</th>
        <th class="num">p99</th>
        <th class="num">Recent failures</th>
        <th>Last error</th>
        <th></th>
        </tr></thead>
        <tbody></tbody>
        </table>
        </section>
        <section class="wide">
        <h2>TLS</h2>
        <table id="tls">
        <thead><tr>
        <th>Listener</th>
        <th>Versions</th>
        <th>Suites (server order)</th>
        <th>Certificates</th>
        </tr></thead>
        <tbody></tbody>
        </table>
        </section>
        <section class="wide">
        <h2>Sessions <span id="session-count" class="muted"></span></h2>
        <input id="filter" type="search" placeholder="Filter by user, client, listener, backend" autocomplete="off">
        <table id="sessions">
        <thead><tr>
        <th>User</th>
        <th>Client</th>
        <th>Listener</th>
        <th>Backend</th>
        <th>State</th>
        <th>Started</th>
        <th class="num">Bytes in</th>
        <th class="num">Bytes out</th>
        <th>TLS</th>
        <th></th>
        </tr></thead>
        <tbody></tbody>
        </table>
        </section>
        </main>
        """#
}
