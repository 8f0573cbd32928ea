#!/usr/bin/env python3
"""Checks Rahat's observability assets beyond what promtool checks (used by scripts/check-observability).

    observability_check.py --metrics deploy/observability/metrics.txt \
        --rules deploy/observability/prometheus/rules/*.yml \
        --dashboards deploy/observability/grafana/dashboards/*.json \
        --emit-dashboard-rules OUT.yml [--runbook docs/operations.md] [--catalog CATALOG.txt]

- The allowed list (metrics.txt) is exactly what `rahat metrics --names` prints: one name a line,
  sorted, no comments and no blank lines (a Swift test compares it with the code's catalog line
  by line).
- Every PromQL expression (recording rules, alerts, dashboard panels, dashboard variables) may name
  only metrics in the allowed list (base names; a histogram's _bucket, _sum and _count series are
  accepted with its base name, unless that ends in _total), series recorded by the recording rules,
  and Prometheus's `up`.
- With --catalog (what `rahat metrics` prints: `name{label,...} type: help`), labels are checked
  too: a selector's matchers may name only the metric's own labels, `job` and `instance` (and `le`
  on a histogram's _bucket series); a `by`/`without`/`on`/`ignoring`/`group_*` clause, a
  `label_values()` variable, a panel's legend `{{label}}` and an alert annotation's
  `$labels.label` only labels that some metric of the expression has (or that a recording rule
  keeps). Only histograms accept the _bucket, _sum and _count suffixes, and the catalog's names
  must be the allowed list's.
- The gauges every process reports with the same value (job queues, outboxes, event streams) are
  not summed, averaged or counted: an expression naming one aggregates with max (or min).
- Recording rules are named level:metric:operations.
- Alerts carry a severity (critical or warning) and the annotations summary, description, runbook
  and runbook_url (docs/operations.md#<anchor>); when the runbook file exists, each anchor must be
  one of its headings.
- Dashboards parse, use schemaVersion 39, have a uid equal to their file name, a `datasource`
  variable of type prometheus, and every panel has a description and reads `${datasource}`.
- Every dashboard query, with Grafana's variables filled in, is written as a recording rule to
  OUT.yml, so `promtool check rules OUT.yml` checks its syntax.

Exits 1 after printing every problem found.
"""
import argparse
import json
import os
import re
import sys

try:
    import yaml
except ImportError:  # scripts/check-observability installs PyYAML first
    sys.exit("observability_check: PyYAML is missing (python3 -m pip install PyYAML)")

HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
PROMETHEUS_OWN = {"up": ()}
TARGET_LABELS = {"job", "instance"}  # Prometheus adds them to every scraped series
KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
    "offset", "inf", "nan", "start", "end",
}
SEVERITIES = {"critical", "warning"}
REQUIRED_ANNOTATIONS = ("summary", "description", "runbook", "runbook_url")
RUNBOOK_URL = re.compile(r"^docs/operations\.md#([a-z0-9]+(?:-[a-z0-9]+)*)$")
RECORD_NAME = re.compile(r"^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*:[a-z0-9][a-z0-9_]*$")
METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
CATALOG_LINE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([a-zA-Z0-9_,]*)\})? (counter|gauge|histogram): .+")
# Gauges every process that can see the thing reports, with the same value (docs/operations.md,
# Metrics): the job queues' by every worker, an outbox's by every replica of its service, the event
# streams' by every process with Redis. Summed they count once per process: read them with max.
REPLICATED_GAUGES = {
    "rahat_jobs_queued", "rahat_jobs_oldest_ready_age_seconds", "rahat_jobs_dead_letters",
    "rahat_outbox_pending", "rahat_outbox_lag_seconds", "rahat_events_consumer_lag",
    "rahat_events_stream_entries",
}
ADDING_AGGREGATION = re.compile(r"\b(?:sum|avg|count)\s*(?:by|without|\()")
SCHEMA_VERSION = 39
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}

problems = []


def problem(where, text):
    problems.append(f"{where}: {text}")


def load_allowed(path):
    """The allowed metric names, as `rahat metrics --names` prints them: one a line, sorted."""
    names = []
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    if text and not text.endswith("\n"):
        problem(path, "does not end with a newline")
    for number, line in enumerate(text.splitlines(), 1):
        if not METRIC_NAME.fullmatch(line):
            problem(f"{path}:{number}", f"not a metric name: {line!r} (no comments or blank lines: "
                    "the file is exactly `rahat metrics --names`)")
            continue
        names.append(line)
    if names != sorted(names):
        problem(path, "names are not sorted as `rahat metrics --names` prints them")
    if len(set(names)) != len(names):
        problem(path, "a name is listed twice")
    return set(names)


def load_catalog(path, allowed):
    """`rahat metrics`: name{label,...} type: help. Returns {name: (type, labels)}."""
    catalog = {}
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if not line:
                continue
            match = CATALOG_LINE.fullmatch(line)
            if not match:
                problem(f"{path}:{number}", f"not `name{{labels}} type: help`: {line!r}")
                continue
            name, labels, kind = match.groups()
            catalog[name] = (kind, tuple(filter(None, (labels or "").split(","))))
    for name in sorted(set(catalog) - allowed):
        problem(path, f"{name} is in the code's catalog but not in metrics.txt (regenerate it)")
    for name in sorted(allowed - set(catalog)):
        problem(path, f"{name} is in metrics.txt but not in the code's catalog (regenerate it)")
    return catalog


# --- PromQL ----------------------------------------------------------------------------------

STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
COMMENT = re.compile(r"#[^\n]*")
MATCHERS = re.compile(r"\{[^{}]*\}")
SELECTOR = re.compile(r"([A-Za-z_:][A-Za-z0-9_:]*)\s*\{([^{}]*)\}")
MATCHER_LABEL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)")
RANGES = re.compile(r"\[[^\[\]]*\]")
GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^()]*)\)")
BY_CLAUSE = re.compile(r"\bby\s*\(([^()]*)\)")
OFFSET = re.compile(r"\boffset\s+-?[0-9a-zA-Z]+")
AT = re.compile(r"@\s*(?:start\(\)|end\(\)|[0-9.eE+-]+)")
NUMBER = re.compile(r"(?<![A-Za-z0-9_:.])(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?![A-Za-z0-9_:])")
IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
LABEL_MAKERS = re.compile(r"\blabel_(?:replace|join)\s*\(")


def masked(expr):
    """The expression with string contents and comments removed (label values cannot confuse)."""
    return COMMENT.sub(" ", STRING.sub('""', expr))


def metric_names(expr):
    """The metric names an expression selects (function, aggregation and label names excluded)."""
    if "__name__" in expr:
        raise ValueError("selects metrics by __name__; name them so the check can read them")
    text = masked(expr)
    text = MATCHERS.sub(" ", text)
    text = RANGES.sub(" ", text)
    text = GROUPING.sub(" ", text)
    text = OFFSET.sub(" ", text)
    text = AT.sub(" ", text)
    text = NUMBER.sub(" ", text)
    names = []
    for match in IDENT.finditer(text):
        word = match.group(0)
        rest = text[match.end():].lstrip()
        if rest.startswith("("):
            continue  # a function or an aggregation
        if word.lower() in KEYWORDS:
            continue
        names.append(word)
    return names


def label_list(text):
    return [label.strip() for label in text.split(",") if label.strip()]


class Names:
    """What an expression may name: the allowed metrics, their labels when the catalog is known,
    and the series the recording rules record (with the labels they keep)."""

    def __init__(self, allowed, catalog=None):
        self.allowed = allowed
        self.catalog = catalog
        self.recorded = {}

    def labels(self, name):
        """The labels a series of this name carries, or None when it is unknown (or the catalog is
        not given)."""
        if name in self.recorded:
            return self.recorded[name]
        if name in PROMETHEUS_OWN:
            return set(PROMETHEUS_OWN[name]) | TARGET_LABELS
        if self.catalog is None:
            return None
        if name in self.catalog:
            return set(self.catalog[name][1]) | TARGET_LABELS
        for suffix in HISTOGRAM_SUFFIXES:
            base = name[: -len(suffix)] if name.endswith(suffix) else None
            if base in self.catalog and self.catalog[base][0] == "histogram":
                return set(self.catalog[base][1]) | TARGET_LABELS | ({"le"} if suffix == "_bucket" else set())
        return None

    def known(self, name):
        if name in self.allowed or name in self.recorded or name in PROMETHEUS_OWN:
            return True
        for suffix in HISTOGRAM_SUFFIXES:
            if name.endswith(suffix):
                base = name[: -len(suffix)]
                if self.catalog is not None:
                    return base in self.catalog and self.catalog[base][0] == "histogram"
                return base in self.allowed and not base.endswith("_total")
        return False

    def expression_labels(self, expr):
        """Every label some series of the expression has, or None when one is not known."""
        union = set()
        try:
            names = metric_names(expr)
        except ValueError:
            return None
        for name in names:
            if not self.known(name):
                continue  # reported as unknown
            labels = self.labels(name)
            if labels is None:
                return None
            union |= labels
        if LABEL_MAKERS.search(expr):
            union |= {s.strip("\"'`") for s in STRING.findall(expr)}
        return union

    def check(self, where, expr):
        """Reports unknown metrics and labels in one expression; returns the labels it may carry
        (None when that is not known)."""
        try:
            names = metric_names(expr)
        except ValueError as error:
            problem(where, str(error))
            return None
        for name in names:
            if not self.known(name):
                hint = " (a Grafana variable outside a label matcher?)" if name == "rahat" else ""
                problem(where, f"unknown metric {name!r}{hint}")
        replicated = sorted(REPLICATED_GAUGES.intersection(names))
        if replicated and ADDING_AGGREGATION.search(masked(expr)):
            problem(where, f"adds up {', '.join(replicated)}, which every process reports with the same value: "
                    "aggregate with max by (...)")
        if self.catalog is None:
            return None
        text = masked(expr)
        for match in SELECTOR.finditer(text):
            name = match.group(1)
            labels = self.labels(name) if self.known(name) else None
            if labels is None:
                continue
            for label in MATCHER_LABEL.findall(match.group(2)):
                if label not in labels:
                    problem(where, f"{name} has no label {label!r} (it has: {', '.join(sorted(labels))})")
        union = self.expression_labels(expr)
        if union is None:
            return None
        for match in GROUPING.finditer(text):
            for label in label_list(match.group(1)):
                if label not in union:
                    problem(where, f"groups by {label!r}, a label no series of the expression has")
        return union


# --- Grafana variables ---------------------------------------------------------------------------

INTERVALS = re.compile(r"\$\{?__(?:rate_interval|interval|range)(?::[a-z]+)?\}?(?![A-Za-z0-9_])")
SECONDS = re.compile(r"\$\{?__(?:range_s|range_ms|interval_ms)\}?")
VARIABLE = re.compile(r"\$\{[A-Za-z0-9_]+(?::[A-Za-z]+)?\}|\$[A-Za-z_][A-Za-z0-9_]*|\[\[[A-Za-z0-9_]+\]\]")
LEGEND_LABEL = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
TEMPLATE_LABEL = re.compile(r"\$labels\.([A-Za-z_][A-Za-z0-9_]*)|\.Labels\.([A-Za-z_][A-Za-z0-9_]*)")


def fill_variables(expr):
    """Grafana's variables replaced by values PromQL accepts: intervals by 5m, others by `rahat`."""
    expr = INTERVALS.sub("5m", expr)
    expr = SECONDS.sub("300", expr)
    return VARIABLE.sub("rahat", expr)


def variable_query(query):
    """The PromQL inside a Grafana variable query and the label it lists (or None), or (None, None)
    (label_names(), metrics(...))."""
    if isinstance(query, dict):
        query = query.get("query", "")
    query = (query or "").strip()
    match = re.fullmatch(r"label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)", query, re.S)
    if match:
        return match.group(1), match.group(2)
    match = re.fullmatch(r"query_result\((.*)\)", query, re.S)
    if match:
        return match.group(1), None
    return None, None


# --- rules ---------------------------------------------------------------------------------------

def load_yaml(path):
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh) or {}
    except (OSError, yaml.YAMLError) as error:
        problem(path, f"cannot read: {error}")
        return {}


def rules_of(rule_files):
    for path in rule_files:
        for group in load_yaml(path).get("groups", []) or []:
            for rule in group.get("rules", []) or []:
                yield path, rule


def record_recorded(rule_files, names):
    """The recording rules' series, each with the labels it keeps: those of its `by` clauses (le
    aside), or the labels of the series it reads when it aggregates nothing."""
    for _, rule in rules_of(rule_files):
        if "record" not in rule:
            continue
        expr = str(rule.get("expr", ""))
        by = set()
        for match in BY_CLAUSE.finditer(masked(expr)):
            by |= set(label_list(match.group(1)))
        if by:
            labels = by - {"le"}
        else:
            labels = names.expression_labels(expr)
        # None: the labels are not known, and the series is accepted by name only.
        names.recorded[rule["record"]] = labels


def github_anchors(path):
    anchors = set()
    with open(path, encoding="utf-8") as fh:
        in_code = False
        for line in fh:
            if line.lstrip().startswith("```"):
                in_code = not in_code
                continue
            match = None if in_code else re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
            if match:
                text = re.sub(r"[^\w\- ]", "", match.group(1).lower())
                anchors.add(text.replace(" ", "-"))
    return anchors


def check_rules(rule_files, names, runbook):
    anchors = github_anchors(runbook) if runbook and os.path.exists(runbook) else None
    wanted = {}
    counts = {"record": 0, "alert": 0}
    for path, rule in rules_of(rule_files):
        if "record" in rule:
            counts["record"] += 1
            where = f"{path}: record {rule['record']}"
            if not RECORD_NAME.match(rule["record"]):
                problem(where, "not named level:metric:operations")
            names.check(where, str(rule.get("expr", "")))
            continue
        counts["alert"] += 1
        where = f"{path}: alert {rule.get('alert')}"
        labels = names.check(where, str(rule.get("expr", "")))
        own = rule.get("labels") or {}
        severity = own.get("severity")
        if severity not in SEVERITIES:
            problem(where, f"severity is {severity!r}, not one of {sorted(SEVERITIES)}")
        annotations = rule.get("annotations") or {}
        for name in REQUIRED_ANNOTATIONS:
            if not str(annotations.get(name, "")).strip():
                problem(where, f"no {name} annotation")
        if labels is not None:
            for key, text in list(annotations.items()) + list(own.items()):
                for match in TEMPLATE_LABEL.finditer(str(text)):
                    label = match.group(1) or match.group(2)
                    if label not in labels and label not in own:
                        problem(where, f"{key} uses $labels.{label}, a label no series of the expression has")
        url = str(annotations.get("runbook_url", ""))
        match = RUNBOOK_URL.match(url)
        if url and not match:
            problem(where, f"runbook_url {url!r} is not docs/operations.md#<anchor>")
        elif match:
            wanted.setdefault(match.group(1), set()).add(rule.get("alert"))
            if anchors is not None and match.group(1) not in anchors:
                problem(where, f"{runbook} has no heading for #{match.group(1)}")
    return counts, wanted


# --- dashboards ------------------------------------------------------------------------------------

def all_panels(panels):
    for panel in panels or []:
        yield panel
        yield from all_panels(panel.get("panels"))


def check_dashboards(paths, names):
    queries = []
    uids = {}
    panel_count = 0
    for path in paths:
        try:
            with open(path, encoding="utf-8") as fh:
                board = json.load(fh)
        except (OSError, ValueError) as error:
            problem(path, f"not valid JSON: {error}")
            continue
        stem = os.path.splitext(os.path.basename(path))[0]
        uid = board.get("uid")
        if uid != stem:
            problem(path, f"uid {uid!r} should be the file's name, {stem!r}")
        if uid in uids:
            problem(path, f"uid {uid!r} is also {uids[uid]}'s")
        uids[uid] = path
        if board.get("schemaVersion") != SCHEMA_VERSION:
            problem(path, f"schemaVersion {board.get('schemaVersion')!r}, expected {SCHEMA_VERSION}")
        if not board.get("title"):
            problem(path, "no title")
        variables = (board.get("templating") or {}).get("list") or []
        source = next((v for v in variables if v.get("name") == "datasource"), None)
        if not source or source.get("type") != "datasource" or source.get("query") != "prometheus":
            problem(path, "no `datasource` variable of type datasource for prometheus")
        for variable in variables:
            if variable.get("type") != "query":
                continue
            where = f"{path}: variable {variable.get('name')}"
            if variable.get("datasource") != DATASOURCE:
                problem(where, "does not read ${datasource}")
            expr, label = variable_query(variable.get("query") or variable.get("definition"))
            if expr is not None:
                expr = fill_variables(expr)
                labels = names.check(where, expr)
                if label and labels is not None and label not in labels:
                    problem(where, f"lists values of {label!r}, a label no series of the query has")
                queries.append((f"{uid}_var_{variable.get('name')}", expr, where))
        ids = set()
        for panel in all_panels(board.get("panels")):
            pid = panel.get("id")
            if pid in ids:
                problem(path, f"panel id {pid} used twice")
            ids.add(pid)
            if panel.get("type") == "row":
                continue
            panel_count += 1
            where = f"{path}: panel {pid} {panel.get('title')!r}"
            if not str(panel.get("description", "")).strip():
                problem(where, "no description")
            if "gridPos" not in panel:
                problem(where, "no gridPos")
            if panel.get("datasource") != DATASOURCE:
                problem(where, "does not read ${datasource}")
            targets = panel.get("targets") or []
            if not targets:
                problem(where, "no queries")
            for target in targets:
                if target.get("datasource", DATASOURCE) != DATASOURCE:
                    problem(where, f"query {target.get('refId')} does not read ${{datasource}}")
                expr = str(target.get("expr", "")).strip()
                if not expr:
                    problem(where, f"query {target.get('refId')} has no expression")
                    continue
                expr = fill_variables(expr)
                labels = names.check(f"{where} query {target.get('refId')}", expr)
                if labels is not None:
                    for label in LEGEND_LABEL.findall(str(target.get("legendFormat", ""))):
                        if label not in labels:
                            problem(where, f"query {target.get('refId')}'s legend names {label!r}, "
                                    "a label no series of the query has")
                queries.append((f"{uid}_panel_{pid}_{target.get('refId')}", expr, where))
    return queries, panel_count


def emit_query_rules(queries, out):
    """Writes the dashboards' queries as recording rules for `promtool check rules`."""
    rules = []
    for name, expr, _ in queries:
        record = "dashboard:" + re.sub(r"[^a-zA-Z0-9_]", "_", name) + ":query"
        rules.append({"record": record, "expr": expr})
    with open(out, "w", encoding="utf-8") as fh:
        yaml.safe_dump({"groups": [{"name": "dashboard-queries", "rules": rules}]}, fh, sort_keys=False,
                       width=1000)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--metrics", required=True, help="allowed metric names: `rahat metrics --names`")
    parser.add_argument("--catalog", help="`rahat metrics` output (names, labels, types): checks labels too")
    parser.add_argument("--rules", nargs="*", default=[], help="Prometheus rule files")
    parser.add_argument("--dashboards", nargs="*", default=[], help="Grafana dashboard JSON files")
    parser.add_argument("--emit-dashboard-rules", help="write the dashboards' queries here as rules")
    parser.add_argument("--runbook", help="Markdown file whose headings the alerts' runbook_url anchors name")
    args = parser.parse_args()

    allowed = load_allowed(args.metrics)
    catalog = load_catalog(args.catalog, allowed) if args.catalog else None
    names = Names(allowed, catalog)
    record_recorded(args.rules, names)
    counts, wanted = check_rules(args.rules, names, args.runbook)
    queries, panels = check_dashboards(args.dashboards, names)
    if args.emit_dashboard_rules:
        emit_query_rules(queries, args.emit_dashboard_rules)

    print(f"metric names: {len(allowed)} allowed; labels "
          + ("checked against the code's catalog" if catalog is not None else "not checked (no --catalog)")
          + f"; {counts['record']} recording rules, {counts['alert']} alerts, "
          f"{len(args.dashboards)} dashboards ({panels} panels, {len(queries)} queries) checked")
    if wanted:
        print("runbook anchors: " + ", ".join(f"#{a} ({', '.join(sorted(wanted[a]))})" for a in sorted(wanted)))
    if args.runbook and not os.path.exists(args.runbook):
        print(f"runbook anchors not checked ({args.runbook} does not exist yet)")
    sys.stdout.flush()
    if problems:
        for line in problems:
            print(f"  {line}", file=sys.stderr)
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
