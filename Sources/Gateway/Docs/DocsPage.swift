/// The readable API reference served at `/docs`: one self-contained page (no CDN, works offline in
/// field offices) that renders `/openapi.json`.
///
/// Everything is inline (CSS and vanilla JavaScript). Text taken from the spec is only ever inserted
/// as DOM text nodes (`append(string)` / `textContent`), never through `innerHTML`.
enum DocsPage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>API reference</title>
        <style>
        :root{--fg:#1f2933;--muted:#5f6b7a;--line:#e3e7ec;--side:#f6f7f9;--accent:#1d4ed8;--code:#f0f2f5;
        --mono:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace}
        *{box-sizing:border-box}
        html{scroll-behavior:smooth}
        body{margin:0;color:var(--fg);background:#fff;
        font:15px/1.55 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
        a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
        code{font-family:var(--mono);font-size:.86em;background:var(--code);padding:.1em .35em;border-radius:4px}
        .layout{display:flex;min-height:100vh}
        nav{width:290px;flex:none;position:sticky;top:0;height:100vh;overflow-y:auto;background:var(--side);
        border-right:1px solid var(--line);padding:18px 12px 40px;font-size:13px}
        nav .brand{font-weight:650;font-size:15px;margin:0 6px 10px}
        nav h4{margin:16px 6px 4px;font-size:11px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted)}
        nav a{display:flex;gap:8px;align-items:center;padding:3px 6px;border-radius:5px;color:var(--fg)}
        nav a:hover{background:#e8ebf0;text-decoration:none}
        nav .p{font-family:var(--mono);font-size:12px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
        main{flex:1;min-width:0;max-width:1040px;padding:28px 40px 80px}
        .method{display:inline-block;min-width:56px;text-align:center;font:700 11px/1.9 var(--mono);text-transform:uppercase;
        color:#fff;border-radius:4px;padding:0 6px;background:#64748b;flex:none}
        nav .method{min-width:48px;font-size:10px;line-height:1.7}
        .m-get{background:#2563eb}.m-post{background:#059669}.m-put{background:#d97706}.m-patch{background:#7c3aed}
        .m-delete{background:#dc2626}
        header h1{margin:0 0 6px;font-size:28px;line-height:1.25}
        .version{font:600 12px var(--mono);background:#e0e7ff;color:#3730a3;border-radius:10px;padding:2px 8px;
        vertical-align:middle;margin-left:10px}
        .links{display:flex;gap:18px;flex-wrap:wrap;margin:10px 0 4px;font-size:14px}
        .md p{margin:.45em 0}.md ul{margin:.4em 0;padding-left:1.4em}.md li{margin:.15em 0}
        h2{font-size:22px;border-bottom:1px solid var(--line);padding-bottom:6px;margin:44px 0 6px}
        section,article,.schema{scroll-margin-top:12px}
        .op{border:1px solid var(--line);border-radius:8px;margin:20px 0;padding:16px 20px}
        .op-head{display:flex;gap:10px;align-items:center;flex-wrap:wrap}
        .op-head .path{font:600 15px var(--mono);word-break:break-all}
        .op h3{margin:10px 0 2px;font-size:17px}
        .opid{font:12px var(--mono);color:var(--muted)}
        .badge{font-size:11.5px;font-weight:600;border-radius:10px;padding:2px 9px;white-space:nowrap}
        .public{background:#dcfce7;color:#166534}.auth{background:#fef3c7;color:#92400e}.depr{background:#fee2e2;color:#991b1b}
        .schemes{font-size:12px;color:var(--muted)}.right{margin-left:auto;display:flex;gap:8px;align-items:center;flex-wrap:wrap}
        h4.sub{margin:18px 0 6px;font-size:11.5px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted)}
        table{border-collapse:collapse;width:100%;font-size:13.5px;margin:4px 0}
        th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid var(--line)}
        th{font-size:11.5px;color:var(--muted);font-weight:600;background:#fafbfc}
        td.name{font-family:var(--mono);font-size:12.5px;white-space:nowrap}
        td .md p:first-child{margin-top:0}td .md p:last-child{margin-bottom:0}
        .req{color:#c2410c;font:600 10.5px/1 sans-serif;margin-left:5px;text-transform:uppercase}
        .type{font-family:var(--mono);font-size:12.5px;color:#0f766e}
        .chip{display:inline-block;font:11.5px/1.6 var(--mono);background:var(--code);border-radius:4px;padding:0 6px;
        margin:0 4px 4px 0;color:#334155;word-break:break-all}
        .note{font-size:12.5px;color:var(--muted);margin:4px 0}
        .nested{padding:0 0 4px 12px;border-left:3px solid #e0e7ff}
        td.sub{padding:0 8px 8px 18px;border-bottom:1px solid var(--line)}
        summary{cursor:pointer;font-size:13px;margin:4px 0;color:var(--muted)}
        .resp{border-top:1px solid var(--line);padding:10px 0 6px}
        .resp-head{display:flex;gap:10px;align-items:baseline}.resp-head .md p{margin:0}
        .status{font:700 13px var(--mono);border-radius:4px;padding:1px 7px;flex:none}
        .s2{background:#dcfce7;color:#166534}.s3{background:#e0f2fe;color:#075985}.s4{background:#ffedd5;color:#9a3412}
        .s5{background:#fee2e2;color:#991b1b}.s0{background:var(--code);color:var(--fg)}
        .ctype{font:12.5px var(--mono);color:var(--fg);background:var(--code);border-radius:4px;padding:1px 6px}
        .media{margin:6px 0 6px 0}
        .schema{margin-top:26px}.schema h3{font:650 16px var(--mono);margin:0 0 4px}
        pre{background:var(--code);padding:10px 12px;border-radius:6px;overflow:auto;font:12.5px/1.45 var(--mono)}
        .error{border:1px solid #fecaca;background:#fef2f2;color:#991b1b;padding:16px 20px;border-radius:8px;margin-top:20px}
        .muted{color:var(--muted)}
        @media (max-width:860px){.layout{display:block}
        nav{position:static;width:auto;height:auto;max-height:45vh;border-right:0;border-bottom:1px solid var(--line)}
        main{padding:20px 16px 60px}.right{margin-left:0}}
        </style>
        </head>
        <body>
        <div class="layout">
        <nav id="nav" aria-label="Contents"><div class="brand">API reference</div></nav>
        <main id="main"><p class="muted">Loading the API specification&hellip;</p></main>
        </div>
        <script>
        "use strict";
        let spec = {};
        const METHODS = ["get", "put", "post", "patch", "delete", "head", "options", "trace"];
        const MAX_DEPTH = 4;

        // ---- DOM helpers: strings are always appended as text nodes, never parsed as HTML. ----
        function el(tag, cls, ...kids) {
          const e = document.createElement(tag);
          if (cls) e.className = cls;
          for (const k of kids) if (k !== null && k !== undefined && k !== false) e.append(k instanceof Node ? k : String(k));
          return e;
        }
        function link(href, ...kids) { const a = el("a", null, ...kids); a.href = href; return a; }
        function slug(s) { return String(s).replace(/[^A-Za-z0-9_-]+/g, "-"); }
        function show(v) { return typeof v === "string" ? v : JSON.stringify(v); }

        // ---- Minimal markdown: paragraphs, "- " bullets, `code`, **bold**. ----
        function inline(text) {
          const frag = document.createDocumentFragment();
          const re = /`([^`]+)`|\*\*([^*]+)\*\*/g;
          let last = 0, m;
          while ((m = re.exec(text))) {
            if (m.index > last) frag.append(text.slice(last, m.index));
            frag.append(m[1] !== undefined ? el("code", null, m[1]) : el("strong", null, m[2]));
            last = re.lastIndex;
          }
          frag.append(text.slice(last));
          return frag;
        }
        function md(text) {
          const box = el("div", "md");
          if (!text) return box;
          for (const block of String(text).replace(/\r\n?/g, "\n").split(/\n\s*\n/)) {
            let p = null, ul = null;
            for (const line of block.split("\n")) {
              const t = line.trim();
              if (!t) continue;
              if (/^[-*] /.test(t)) { p = null; if (!ul) box.append(ul = el("ul")); ul.append(el("li", null, inline(t.slice(2)))); }
              else if (ul && /^\s+/.test(line)) ul.lastChild.append(" ", inline(t));
              else { ul = null; if (p) p.append(" "); else box.append(p = el("p")); p.append(inline(t)); }
            }
          }
          return box;
        }

        // ---- $ref resolution (local refs only). Returns the target node, the first ref and its name. ----
        function deref(obj) {
          let ref = null, name = null, hops = 0;
          while (obj && typeof obj === "object" && typeof obj.$ref === "string" && hops++ < 16) {
            if (!ref) ref = obj.$ref;
            name = obj.$ref.split("/").pop();
            if (!obj.$ref.startsWith("#/")) return { node: {}, ref, name };
            obj = obj.$ref.slice(2).split("/").reduce((o, k) =>
              o == null ? o : o[decodeURIComponent(k).replace(/~1/g, "/").replace(/~0/g, "~")], spec);
          }
          return { node: obj && typeof obj === "object" ? obj : {}, ref, name };
        }
        function hasProps(n) { return !!(n && (n.properties || (Array.isArray(n.allOf) && n.allOf.length))); }

        // ---- Schema rendering ----
        function typeLabel(s, depth = 0) {
          const span = el("span", "type");
          if (!s || typeof s !== "object") { span.append("any"); return span; }
          if (depth > 6) { span.append("…"); return span; }
          if (s.$ref) {
            const name = s.$ref.split("/").pop();
            span.append(s.$ref.startsWith("#/components/schemas/") ? link("#schema-" + slug(name), name) : name);
            return span;
          }
          const join = (list, sep) => list.forEach((a, i) => { if (i) span.append(sep); span.append(typeLabel(a, depth + 1)); });
          if (Array.isArray(s.oneOf || s.anyOf)) { join(s.oneOf || s.anyOf, " | "); return span; }
          if (Array.isArray(s.allOf) && !s.properties) { join(s.allOf, " & "); return span; }
          const types = Array.isArray(s.type) ? s.type : s.type ? [s.type]
            : s.properties ? ["object"] : s.items ? ["array"] : s.const !== undefined ? ["const"] : s.enum ? ["enum"] : ["any"];
          types.forEach((t, i) => {
            if (i) span.append(" | ");
            if (t === "array") span.append("array of ", typeLabel(s.items, depth + 1));
            else if (t === "object" && !s.properties && s.additionalProperties && typeof s.additionalProperties === "object")
              span.append("map of ", typeLabel(s.additionalProperties, depth + 1));
            else span.append(t);
          });
          return span;
        }
        const FACTS = [["format", "format"], ["minLength", "min length"], ["maxLength", "max length"],
          ["minimum", "min"], ["maximum", "max"], ["exclusiveMinimum", "> "], ["exclusiveMaximum", "< "],
          ["multipleOf", "multiple of"], ["minItems", "min items"], ["maxItems", "max items"],
          ["minProperties", "min fields"], ["maxProperties", "max fields"], ["pattern", "pattern"], ["default", "default"]];
        function facts(s, prefix = "") {
          const out = [];
          if (!s || typeof s !== "object") return out;
          const chip = (text) => out.push(el("span", "chip", prefix + text));
          if (Array.isArray(s.enum)) chip("one of: " + s.enum.map(v => JSON.stringify(v)).join(", "));
          if (s.const !== undefined) chip("const: " + JSON.stringify(s.const));
          for (const [k, label] of FACTS) if (s[k] !== undefined && typeof s[k] !== "boolean")
            chip(label.endsWith(" ") ? label + show(s[k]) : label + ": " + show(s[k]));
          if (s.uniqueItems) chip("unique items");
          if (s.readOnly) chip("read-only");
          if (s.writeOnly) chip("write-only");
          if (s.deprecated) chip("deprecated");
          if (s.items && !s.items.$ref) out.push(...facts(s.items, prefix + "items "));
          return out;
        }
        function collect(n, seen, acc, guard = 0) {
          acc = acc || { props: {}, required: new Set(), closed: false, extra: null };
          if (guard > MAX_DEPTH) return acc;
          for (const part of n.allOf || []) {
            const r = deref(part);
            if (!(r.ref && seen.has(r.ref))) collect(r.node, seen, acc, guard + 1);
          }
          Object.assign(acc.props, n.properties || {});
          (n.required || []).forEach(k => acc.required.add(k));
          if (n.additionalProperties === false || n.unevaluatedProperties === false) acc.closed = true;
          else if (n.additionalProperties && typeof n.additionalProperties === "object") acc.extra = n.additionalProperties;
          return acc;
        }
        // Expands a schema into nested tables, following refs at most MAX_DEPTH levels and never re-entering a ref.
        function nested(s, depth, seen) {
          if (depth > MAX_DEPTH || !s || typeof s !== "object") return null;
          const r = deref(s);
          if (r.ref) { if (seen.has(r.ref)) return null; seen = new Set(seen).add(r.ref); }
          const n = r.node;
          if (hasProps(n)) return propsTable(n, depth, seen);
          if (n.items) return nested(n.items, depth, seen);
          const alts = n.oneOf || n.anyOf;
          if (Array.isArray(alts)) {
            const box = el("div");
            alts.forEach((a, i) => {
              box.append(el("div", "note", "Option " + (i + 1) + ": ", typeLabel(a)));
              const sub = nested(a, depth + 1, seen);
              if (sub) box.append(el("div", "nested", sub));
            });
            return box;
          }
          return null;
        }
        function propsTable(n, depth, seen) {
          const { props, required, closed, extra } = collect(n, seen);
          const wrap = el("div");
          const tbody = el("tbody");
          for (const [k, ps] of Object.entries(props)) {
            const r = deref(ps);
            const eff = r.ref && hasProps(r.node) ? {} : Object.assign({}, r.node, ps);
            const desc = (ps && ps.description) || r.node.description;
            tbody.append(el("tr", null,
              el("td", "name", k, required.has(k) ? el("span", "req", "required") : null),
              el("td", null, typeLabel(ps)),
              el("td", null, ...facts(eff), desc ? md(desc) : null)));
            const sub = nested(ps, depth + 1, seen);
            if (sub) {
              const inner = deref(ps && ps.items ? ps.items : ps);
              const d = el("details", null, el("summary", null, "Fields of " + (r.name || inner.name || k)), sub);
              d.open = depth + 1 <= 1;
              const td = el("td", "sub", el("div", "nested", d));
              td.colSpan = 3;
              tbody.append(el("tr", null, td));
            }
          }
          if (tbody.childNodes.length)
            wrap.append(el("table", null, el("thead", null, el("tr", null, el("th", null, "Field"), el("th", null, "Type"),
              el("th", null, "Details"))), tbody));
          if (closed) wrap.append(el("div", "note", "No other fields are accepted."));
          if (extra) wrap.append(el("div", "note", "Other fields allowed, with values of type ", typeLabel(extra), "."));
          return wrap;
        }
        function mediaBlock(ct, media, open) {
          const s = media && media.schema;
          const head = [el("span", "ctype", ct), s ? " " : null, s ? typeLabel(s) : null];
          const body = [];
          if (s) { const chips = facts(deref(s).node); if (chips.length) body.push(el("div", null, ...chips)); }
          const sub = s ? nested(s, 0, new Set()) : null;
          if (sub) body.push(el("div", "nested", sub));
          if (!body.length) return el("div", "media", ...head);
          const d = el("details", "media", el("summary", null, ...head), ...body);
          d.open = open;
          return d;
        }

        // ---- Operations ----
        function authInfo(op) {
          const reqs = op.security !== undefined ? op.security : (spec.security || []);
          if (!reqs.length) return [el("span", "badge public", "Public")];
          const alts = reqs.map(r => Object.keys(r || {})).filter(a => a.length);
          const optional = alts.length < reqs.length;
          const schemes = el("span", "schemes");
          alts.forEach((a, i) => {
            if (i) schemes.append(" or ");
            a.forEach((name, j) => { if (j) schemes.append(" + "); schemes.append(link("#security", name)); });
          });
          return [el("span", "badge auth", optional ? "Auth optional" : "Requires auth"), schemes];
        }
        function paramsTable(list) {
          const tbody = el("tbody");
          for (const p of list) {
            const s = p.schema || (p.content && (Object.values(p.content)[0] || {}).schema) || {};
            const eff = Object.assign({}, deref(s).node, s);
            tbody.append(el("tr", null,
              el("td", "name", p.name),
              el("td", null, p.in),
              el("td", null, p.required ? el("span", "req", "required") : el("span", "muted", "optional")),
              el("td", null, typeLabel(s), el("div", null, ...facts(eff))),
              el("td", null, p.deprecated ? el("span", "chip", "deprecated") : null, md(p.description || eff.description))));
          }
          return el("table", null, el("thead", null, el("tr", null, ...["Name", "In", "Required", "Schema", "Description"]
            .map(h => el("th", null, h)))), tbody);
        }
        function renderOp({ path, method, op, item }) {
          const art = el("article", "op");
          art.id = opId(path, method, op);
          art.append(el("div", "op-head", el("span", "method m-" + method, method), el("span", "path", path),
            el("span", "right", op.deprecated ? el("span", "badge depr", "Deprecated") : null, ...authInfo(op))));
          if (op.summary) art.append(el("h3", null, op.summary));
          if (op.operationId) art.append(el("div", "opid", "operationId: " + op.operationId));
          if (op.description) art.append(md(op.description));
          const params = new Map();
          for (const p0 of [...(item.parameters || []), ...(op.parameters || [])]) {
            const p = deref(p0).node;
            params.set(p.in + ":" + p.name, p);
          }
          if (params.size) art.append(el("h4", "sub", "Parameters"), paramsTable([...params.values()]));
          if (op.requestBody) {
            const rb = deref(op.requestBody).node;
            art.append(el("h4", "sub", "Request body", rb.required ? el("span", "req", "required") : null));
            if (rb.description) art.append(md(rb.description));
            for (const [ct, media] of Object.entries(rb.content || {})) art.append(mediaBlock(ct, media, true));
          }
          const responses = Object.entries(op.responses || {});
          if (responses.length) art.append(el("h4", "sub", "Responses"));
          for (const [code, r0] of responses) {
            const resp = deref(r0).node;
            const cls = /^[1-5]/.test(code) ? "s" + (code[0] === "1" ? "0" : code[0]) : "s0";
            const box = el("div", "resp", el("div", "resp-head", el("span", "status " + cls, code), md(resp.description)));
            const headers = Object.entries(resp.headers || {});
            if (headers.length) {
              const tb = el("tbody");
              for (const [h, hv] of headers) {
                const hn = deref(hv).node, s = hn.schema || {};
                tb.append(el("tr", null, el("td", "name", h, hn.required ? el("span", "req", "required") : null),
                  el("td", null, typeLabel(s), el("div", null, ...facts(Object.assign({}, deref(s).node, s)))),
                  el("td", null, md(hn.description))));
              }
              box.append(el("table", null, el("thead", null, el("tr", null, el("th", null, "Response header"),
                el("th", null, "Schema"), el("th", null, "Description"))), tb));
            }
            for (const [ct, media] of Object.entries(resp.content || {})) box.append(mediaBlock(ct, media, code[0] === "2"));
            art.append(box);
          }
          return art;
        }
        function opId(path, method, op) { return "op-" + slug(op.operationId || method + path); }

        // ---- Page ----
        function render() {
          const info = spec.info || {};
          const nav = document.getElementById("nav"), main = document.getElementById("main");
          document.title = (info.title || "API") + " — API reference";
          const header = el("header", null, el("h1", null, info.title || "API reference",
            info.version ? el("span", "version", "v" + info.version) : null));
          header.id = "top";
          if (info.description) header.append(md(info.description));
          header.append(el("div", "links", link("/openapi.yaml", "Download the spec"), link("/openapi.json", "OpenAPI JSON")));
          for (const s of spec.servers || []) header.append(el("div", "note", "Server: ", el("code", null, s.url || ""),
            s.description ? " — " + s.description : ""));
          const frag = [header];
          const schemes = Object.entries((spec.components || {}).securitySchemes || {});
          if (schemes.length) {
            const tb = el("tbody");
            for (const [name, s0] of schemes) {
              const s = deref(s0).node;
              const how = s.type === "http" ? "HTTP " + (s.scheme || "") + (s.bearerFormat ? " (" + s.bearerFormat + ")" : "")
                : s.type === "apiKey" ? "API key in " + s.in + " " + JSON.stringify(s.name) : (s.type || "");
              tb.append(el("tr", null, el("td", "name", name), el("td", null, how), el("td", null, md(s.description))));
            }
            const sec = el("section", null, el("h2", null, "Authentication"),
              el("p", "muted", "Operations marked “Public” need no credentials; the others accept any one of these schemes."),
              el("table", null, el("thead", null, el("tr", null, el("th", null, "Scheme"), el("th", null, "How"),
                el("th", null, "Description"))), tb));
            sec.id = "security";
            frag.push(sec);
          }
          const groups = new Map();
          for (const t of spec.tags || []) groups.set(t.name, { tag: t, ops: [] });
          for (const [path, item0] of Object.entries(spec.paths || {})) {
            const item = deref(item0).node;
            for (const method of METHODS) if (item[method]) {
              const op = item[method], t = (op.tags && op.tags[0]) || "default";
              if (!groups.has(t)) groups.set(t, { tag: { name: t }, ops: [] });
              groups.get(t).ops.push({ path, method, op, item });
            }
          }
          nav.replaceChildren(el("div", "brand", info.title || "API reference"), link("#top", "Overview"));
          if (schemes.length) nav.append(link("#security", "Authentication"));
          for (const { tag, ops } of groups.values()) {
            if (!ops.length) continue;
            const sec = el("section", null, el("h2", null, tag.name));
            sec.id = "tag-" + slug(tag.name);
            if (tag.description) sec.append(md(tag.description));
            nav.append(el("h4", null, link("#" + sec.id, tag.name)));
            for (const o of ops) {
              sec.append(renderOp(o));
              const a = link("#" + opId(o.path, o.method, o.op), el("span", "method m-" + o.method, o.method), el("span", "p", o.path));
              a.title = o.op.summary || o.path;
              nav.append(a);
            }
            frag.push(sec);
          }
          const schemas = Object.entries((spec.components || {}).schemas || {});
          if (schemas.length) {
            const sec = el("section", null, el("h2", null, "Schemas"));
            sec.id = "schemas";
            nav.append(el("h4", null, link("#schemas", "Schemas")));
            for (const [name, s] of schemas) {
              const box = el("div", "schema", el("h3", null, name));
              box.id = "schema-" + slug(name);
              if (s.description) box.append(md(s.description));
              box.append(el("div", null, typeLabel(s), " ", ...facts(s)));
              const sub = nested(s, 0, new Set(["#/components/schemas/" + name]));
              if (sub) box.append(sub);
              if (s.example !== undefined) box.append(el("h4", "sub", "Example"), el("pre", null, JSON.stringify(s.example, null, 2)));
              sec.append(box);
              const a = link("#" + box.id, el("span", "p", name));
              nav.append(a);
            }
            frag.push(sec);
          }
          main.replaceChildren(...frag);
          const target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
          if (target) target.scrollIntoView();
        }
        function showError(title, err) {
          document.getElementById("main").replaceChildren(el("div", "error", el("strong", null, title),
            el("p", null, String((err && err.message) || err)),
            el("p", null, "Check that the server is running and reachable, then reload this page. The raw spec is at ",
              link("/openapi.yaml", "/openapi.yaml"), ".")));
        }
        fetch("/openapi.json", { headers: { Accept: "application/json" } })
          .then(r => { if (!r.ok) throw new Error("GET /openapi.json returned HTTP " + r.status + " " + r.statusText); return r.json(); })
          .then(doc => {
            spec = doc || {};
            try { render(); } catch (e) { showError("Could not render the API specification.", e); }
          }, e => showError("Could not load the API specification from /openapi.json.", e));
        </script>
        </body>
        </html>
        """#
}
