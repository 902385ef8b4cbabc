// Draw every <pre class="mermaid"> of the page with the site's own mermaid.min.js.
mermaid.initialize({ startOnLoad: true, securityLevel: "strict" });
