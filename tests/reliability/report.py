"""Render the figures the reliability suite wrote (test-artifacts/reliability-<backend>.json)
as the tables of RELIABILITY.md.

    python tests/reliability/report.py           print them
    python tests/reliability/report.py --write   replace the figures block of RELIABILITY.md
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
DOCUMENT = ROOT / "RELIABILITY.md"
START, END = "<!-- figures:start -->", "<!-- figures:end -->"
BACKENDS = ("sqlite", "postgresql")

Row = tuple[str, str, Callable[[dict[str, Any]], str]]


def load() -> dict[str, dict[str, Any]]:
    found = {}
    for backend in BACKENDS:
        path = ARTIFACTS / f"reliability-{backend}.json"
        if path.exists():
            found[backend] = json.loads(path.read_text())
    return found


def cell(runs: dict[str, dict[str, Any]], backend: str, name: str,
         render: Callable[[dict[str, Any]], str]) -> str:
    entry = runs.get(backend, {}).get("tests", {}).get(name)
    if entry is None:
        return "—"
    try:
        return render(entry)
    except (KeyError, TypeError, ValueError):
        return "?"


def table(runs: dict[str, dict[str, Any]], title: str, rows: list[Row]) -> list[str]:
    lines = [f"### {title}", "", "| case | figures (SQLite) | figures (PostgreSQL) |", "|---|---|---|"]
    for label, name, render in rows:
        lines.append(f"| {label} | {cell(runs, 'sqlite', name, render)} | "
                     f"{cell(runs, 'postgresql', name, render)} |")
    return [*lines, ""]


def lost(entry: dict[str, Any], *keys: str) -> int:
    return sum(int(entry.get(key, 0)) for key in keys)


FAULTS: list[Row] = [
    ("SMTP down (connection refused) for hours, then back",
     "smtp_outage_down", lambda e: f"{e['emails']} e-mails, {e['sweeps_during_outage']} sweeps during the "
     f"outage (up to {e['max_attempts_seen']} tries each), {e['delivered_once']} delivered once, "
     f"{e['duplicates']} twice, **{e['lost']} lost**, {e['server_errors']} seller errors"),
    ("SMTP answering 421 to everything for hours, then back",
     "smtp_outage_refusing", lambda e: f"{e['refused_by_server']} refusals; {e['emails']} e-mails, "
     f"{e['delivered_once']} delivered once, **{e['lost']} lost**, {e['given_up']} given up"),
    ("SMTP accepting, then hanging, without Redis (API orders, login page meanwhile)",
     "smtp_hung_without_redis", lambda e: f"{e['requests']} requests while it hung, "
     f"**{e['requests_held']} held** by it; {e['emails']} e-mails, {e['delivered']} delivered once it "
     f"answered, **{e['lost']} lost**"),
    ("Redis killed during a working day, restarted empty",
     "redis_killed_during_seller_actions", lambda e: f"{e['requests_while_down']} requests while down, "
     f"{e['server_errors']} 5xx, slowest {e['slowest_request_s']} s; {e['emails']} e-mails, "
     f"{e['delivered_once']} delivered once; "
     f"{e['automatic_receipts_after_restart']} automatic receipts after restart, "
     f"**{e['lost'] + e['automatic_receipts_lost']} lost**"),
    ("Redis killed during a sweep job",
     "redis_killed_during_sweep", lambda e: f"{e['parcels']} parcels, {e['emails']} e-mails, "
     f"{e['sent_before_kill']} sent before the kill; worker exit {e['worker_exit_code']}; "
     f"**{e['lost']} lost**, {e['sent_rows_resent']} sent twice"),
    ("RQ worker (and work-horse) SIGKILLed mid-batch",
     "worker_sigkill_mid_batch", lambda e: f"{e['emails']} e-mails in one job, {e['sent_before_kill']} sent "
     f"before the kill; **{e['lost']} lost**, {e['sent_rows_resent']} `sent` rows sent again, "
     f"{e['duplicates_at_least_once']} in-flight duplicates"),
    ("`flask jobs worker` (jobs in its process) SIGKILLed mid-batch",
     "jobs_worker_sigkill_mid_batch", lambda e: f"{e['emails']} e-mails in one job, {e['sent_before_kill']} "
     f"sent before the kill; **{e['lost']} lost**, {e['sent_rows_resent']} `sent` rows sent again, "
     f"{e['duplicates_at_least_once']} in-flight duplicates"),
    ("RQ worker SIGKILLed mid-sweep",
     "worker_sigkill_mid_sweep", lambda e: f"{e['parcels']} overdue parcels, {e['emails']} e-mails; "
     f"{e['parcels_received_twice']} received twice, **{e['lost']} lost**, "
     f"{e['sent_rows_resent']} sent twice"),
    ("Work-horse alone SIGKILLed (RQ retries the job)",
     "work_horse_sigkill", lambda e: f"{e['emails']} e-mails, job {e['rq_job_after_kill']} by RQ; "
     f"**{e['lost']} lost**, {e['sent_rows_resent']} sent twice"),
    *[(f"Webhook receiver {what} for hours, then back",
       f"webhook_receiver_{outage}", lambda e: f"{e['events']} events of {e['orders']} orders, "
       f"{e['sweeps_during_outage']} sweeps during the outage (up to {e['max_attempts_seen']} tries each), "
       f"{e['delivered_once']} delivered once, in order ({e['out_of_order']} out of order), "
       f"**{e['lost']} lost**, {e['given_up']} given up, {e['unverified']} unverified signatures")
      for outage, what in (("down", "down (connection refused)"), ("failing", "answering 503"),
                           ("hanging", "answering after the timeout"))],
    ("Webhooks: RQ worker, then Redis killed and restarted empty",
     "webhook_redis_killed", lambda e: f"{e['events']} events: {e['delivered_by_worker']} by the worker, "
     f"{e['waiting_while_redis_down']} left waiting while Redis was down and {e['delivered_by_sweep']} "
     f"delivered by the sweep; {e['delivered_once']} delivered once, **{e['lost']} lost**"),
    ("`flask jobs worker` SIGKILLed mid-batch of webhooks",
     "webhook_worker_sigkill", lambda e: f"{e['events']} events in one job, {e['delivered_before_kill']} "
     f"delivered before the kill; **{e['lost']} lost**, {e['delivered_rows_resent']} delivered rows sent "
     f"again, {e['accepted_twice']} in-flight repeat (same `webhook-id`)"),
    ("Database refusing each write of each action in turn",
     "database_refuses_a_write", lambda e: f"{e['faults_injected']} faults over {e['actions']} actions: "
     f"{e['refused_whole']} refused whole (500, nothing written), {e['committed_then_delivered']} after "
     f"the commit (action kept, e-mails sent later); **{e['half_done']} half done**"),
    ("Database out of reach", "database_out_of_reach_pages",
     lambda e: f"{e['plain_500']} of {e['pages']} pages answered a plain 500 page"),
    ("20 sessions shipping the last units of a line (HTTP)",
     "concurrent_ship_last_units", lambda e: f"{e['units_left']} units left: {e['shipped']} shipped, "
     f"{e['refused_cleanly']} refused (422), {e['over_shipped']} over-shipped, {e['server_errors']} 5xx"),
    ("Buyer pressing « reçu » while sweeps run",
     "concurrent_buyer_and_sweep", lambda e: f"{e['parcels']} races: {e['received_by_buyer']} by the buyer, "
     f"{e['received_automatically']} automatically, {e['received_twice']} twice, {e['server_errors']} 5xx"),
    ("Two sellers working at once",
     "concurrent_two_sellers", lambda e: f"{e['sessions']} sessions, {e['requests']} requests, "
     f"{e['foreign_changes']} changes to the other's orders, {e['foreign_orders_seen']} of its orders seen, "
     f"{e['server_errors']} 5xx"),
]

LOAD: list[Row] = [
    ("gunicorn -w 2 (production profile), RQ worker, Redis, SMTP sink",
     "load_gunicorn", lambda e: f"{e['requests']} requests in {e['seconds']} s "
     f"({e['requests_per_second']}/s) "
     f"from {e['sellers']} sellers + storefront + buyers; **{e['server_errors']} 5xx**, "
     f"{e['client_errors']} 4xx; p50 {e['latency_p50_ms']} ms, p95 {e['latency_p95_ms']} ms, "
     f"max {e['latency_max_ms']} ms"),
    ("… reconciled afterwards", "load_gunicorn",
     lambda e: f"{e['orders_accepted']} orders accepted (+{e['order_replays']} replays), "
     f"**{e['orders_lost']} missing**; {e['payments']} payments, {e['shipments']} parcels, "
     f"{e['receipt_requests']} receipt requests, {e['buyer_confirmations']} buyer confirmations, "
     f"{e['history_mismatches']} kinds of action not once each in the history; "
     f"{e['emails_sent']} e-mails sent, {e['emails_in_sink']} in the SMTP sink, **{e['emails_lost']} lost**"),
    ("… the worker's backlog", "load_gunicorn",
     lambda e: f"{e['jobs_queued_at_end']} jobs queued when the load stopped; once `flask admin sweep` "
     f"had run, {e['jobs_left_after_drain']} still queued {e['drain_seconds']} s later (jobs left find "
     f"their e-mails sent)"),
]


def forms(e: dict[str, Any]) -> str:
    return (f"{e['examples']} examples, {e['requests']} requests: {e.get('2xx', 0)} 2xx, "
            f"{e.get('redirect', 0)} redirects, {e.get('4xx', 0)} 4xx ({e['refusals_without_message']} "
            f"without a message), {e['server_errors']} 5xx, {e['unescaped_markup']} unescaped markup")


BAD_INPUT: list[Row] = [
    ("integers of any size: list cursors, parcel and e-mail numbers, ship form line ids and quantities",
     "integer_parameters", lambda e: f"{e['requests']} requests (Hypothesis, up to 10^40), "
     f"{e['server_errors']} 5xx"),
    *[(f"form: {label}", f"fuzz_form_{name}", forms) for label, name in [
        ("settings", "settings"), ("password change", "password"), ("login", "login"),
        ("payment note / cancellation reason", "pay_cancel"), ("shipment", "ship"),
        ("receipt request", "receipt_request"), ("order list and CSV export", "list_export"),
        ("tracking preview, order URLs", "preview_order_url"), ("body over 1 MB", "too_large")]],
    ("people's text into pages and e-mails (SMTP)", "fuzz_people_text_into_emails",
     lambda e: f"{e['examples']} examples ({e.get('accepted', 0)} orders accepted, "
     f"{e.get('refused', 0)} refused 422), {e['emails_checked']} e-mails; {e['header_injections']} header "
     f"injections, {e['unescaped_markup']} unescaped markup"),
    ("API (schemathesis)", "fuzz_api_schemathesis",
     lambda e: f"{e['cases']} cases: "
     + ", ".join(f"{k[7:]}×{v}" for k, v in sorted(e.items()) if k.startswith("status_"))
     + f"; {e['server_errors']} 5xx"),
    ("workflow state machine (Hypothesis)", "fuzz_workflow_stateful",
     lambda e: f"{e['examples']} examples of up to {e['steps_per_example_max']} steps, "
     f"{e['invariant_checks']} invariant checks, {e['invariant_failures']} broken"),
    ("signed links: tampered, truncated, extended, expired, wrong purpose, other parcel, revoked key",
     "bad_signed_links", lambda e: f"{e['requests']} requests, {e['invalid_link_page']} answered 404 "
     "« lien invalide »; "
     f"{e['tampered']} tampered, {e['truncated']} truncated, {e['expired']} expired, "
     f"{e['revoked key']} revoked key; {e['opened']} opened, {e['changed']} changed"),
]

ACCESS: list[Row] = [
    ("login throttle: one account guessed from many addresses", "login_throttle_one_account",
     lambda e: f"{e['guesses']} guesses from {e['addresses']} addresses: {e['checked']} checked, "
     f"{e['refused']} refused (owner shown the reset); **{e['checked_beyond_limit']} checked beyond the "
     "account's 10 an hour**"),
    ("login throttle: IPv6 addresses of one /64", "login_throttle_ipv6",
     lambda e: f"{e['addresses']} addresses: {e['checked']} checked; **{e['checked_beyond_limit']} beyond "
     "the limits** (5 a minute per account, 20 an hour)"),
    ("login throttle: 20 guesses at once from one address (memory)", "login_throttle_parallel_memory",
     lambda e: f"{e['checked']} checked, {e['refused']} refused; "
     f"**{e['let_through_beyond_limit']} beyond the limit of 5**"),
    ("login throttle: 20 guesses at once from one address (Redis)", "login_throttle_parallel_redis",
     lambda e: f"{e['checked']} checked, {e['refused']} refused; "
     f"**{e['let_through_beyond_limit']} beyond the limit of 5**"),
    ("« Mot de passe oublié » for an address with and without an account", "reset_same_answer",
     lambda e: f"{e['requests']} requests, {e['different_answers']} different answers, {e['emails']} e-mail "
     f"(to the account), {e['emails_to_unknown']} to the unknown address"),
    ("production with a weak former key in SECRET_KEY_FALLBACKS", "production_weak_fallback",
     lambda e: f"{e['variants']} variants (the development key, short, empty), {e['started']} started"),
    ("production with BASE_URL missing or not https", "production_base_url",
     lambda e: f"{e['variants']} variants, {e['started']} started"),
    ("gunicorn without UNIQU3_ENV (the development profile)", "development_profile_under_gunicorn",
     lambda e: f"{e['variants']} start, {e['started']} served"),
    ("matrix over every seller and sign-in route", "access_matrix",
     lambda e: f"{e['routes']} route×method, {e['cases']} cases: "
     f"{e['other seller']} as another seller (404), "
     f"{e['visitor']} as a visitor (login), {e['no csrf token']} without CSRF token (400), "
     f"{e['owner control']} owner controls; **{e['leaks']} leaks**"),
    ("API keys", "api_keys", lambda e: f"{e['cases']} cases (no key, malformed, revoked, Basic, another "
     f"seller's order); **{e['leaks']} leaks**"),
    ("login throttle behind a proxy", "login_throttle",
     lambda e: f"{e['attempts']} attempts, {e['throttled']} throttled, forged X-Forwarded-For obeyed "
     f"{e['forged_header_obeyed']} times"),
    ("client address behind 0/1/2 proxies", "proxy_client_address",
     lambda e: f"{e['cases']} cases, {e['wrong_address']} wrong"),
    ("sessions", "sessions", lambda e: "fixation, copied cookie after logout, idle timeout: "
     f"{e['failures']} failures"),
    ("security headers", "security_headers",
     lambda e: f"{e['html_responses_checked']} HTML responses, {e['missing']} missing"),
    ("production without a real SECRET_KEY", "production_secret_key",
     lambda e: f"{e['refused']} of {e['variants']} variants refused at start"),
]

DATA: list[Row] = [
    ("migrations walked with data", "migrations_walk",
     lambda e: f"{e['revisions']} revision(s), {e['upgrades']} upgrades, {e['downgrades']} downgrades, "
     f"{e['rows']} rows / {e['values_checked']} values checked, **{e['rows_lost']} lost**"),
    ("SQLite table rebuild in a migration", "migrations_sqlite_table_rebuild",
     lambda e: f"foreign keys on: {e['lost_with_foreign_keys_on']} rows lost (the walk detects them); "
     f"off: **{e['lost_with_foreign_keys_off']} lost**"),
    ("SQLite: web and worker processes writing at once", "sqlite_two_writers",
     lambda e: f"{e['orders_written']} orders + {e['emails_sent_meanwhile']} e-mails written concurrently, "
     f"{e['lock_errors']} lock errors"),
    ("backup, wipe, restore", "backup_restore_sqlite",
     lambda e: f"{e['methods']} methods, {e['orders']} orders, **{e['lost']} lost**"),
    ("backup, wipe, restore (PostgreSQL)", "backup_restore_postgresql",
     lambda e: f"pg_dump/pg_restore, {e['restores']} restores, {e['orders']} orders, **{e['lost']} lost**"),
]

LOST_KEYS = {
    "smtp_outage_down": ("lost", "duplicates"), "smtp_outage_refusing": ("lost", "duplicates", "given_up"),
    "redis_killed_during_seller_actions": ("lost", "automatic_receipts_lost", "server_errors"),
    "redis_killed_during_sweep": ("lost", "sent_rows_resent"),
    "worker_sigkill_mid_batch": ("lost", "sent_rows_resent"),
    "jobs_worker_sigkill_mid_batch": ("lost", "sent_rows_resent"),
    "worker_sigkill_mid_sweep": ("lost", "sent_rows_resent", "parcels_received_twice"),
    "work_horse_sigkill": ("lost", "sent_rows_resent"),
    "database_refuses_a_write": ("half_done",),
    "webhook_receiver_down": ("lost", "given_up", "out_of_order", "unverified"),
    "webhook_receiver_failing": ("lost", "given_up", "out_of_order", "unverified"),
    "webhook_receiver_hanging": ("lost", "given_up", "out_of_order", "unverified"),
    "webhook_redis_killed": ("lost", "out_of_order"),
    "webhook_worker_sigkill": ("lost", "delivered_rows_resent", "duplicates_beyond_at_least_once"),
    "load_gunicorn": ("orders_lost", "emails_lost", "server_errors"),
    "concurrent_ship_last_units": ("over_shipped",), "concurrent_buyer_and_sweep": ("received_twice",),
    "concurrent_two_sellers": ("foreign_changes", "foreign_orders_seen"),
    "migrations_walk": ("rows_lost",), "migrations_sqlite_table_rebuild": ("lost_with_foreign_keys_off",),
    "backup_restore_sqlite": ("lost",), "backup_restore_postgresql": ("lost",),
    "access_matrix": ("leaks",), "api_keys": ("leaks",),
    "smtp_hung_without_redis": ("lost", "requests_held"),
    "login_throttle_one_account": ("checked_beyond_limit",), "login_throttle_ipv6": ("checked_beyond_limit",),
    "login_throttle_parallel_memory": ("let_through_beyond_limit",),
    "login_throttle_parallel_redis": ("let_through_beyond_limit",),
    "reset_same_answer": ("different_answers", "emails_to_unknown"),
    "production_weak_fallback": ("started",), "production_base_url": ("started",),
    "development_profile_under_gunicorn": ("started",), "integer_parameters": ("server_errors",),
}


def when(run: dict[str, Any]) -> str:
    """The time of the run, or the first and last when tests of later runs replaced some."""
    stamps = sorted({str(entry.get("at", "?")) for entry in run.get("tests", {}).values()})
    return stamps[0] if len(stamps) == 1 else f"{stamps[0]} to {stamps[-1]}" if stamps else "?"


def render(runs: dict[str, dict[str, Any]]) -> str:
    stamps = ", ".join(f"{backend}: {when(run)}" for backend, run in runs.items())
    lines = [f"Figures of the last runs ({stamps} UTC), written by the suite to "
             "`test-artifacts/reliability-<backend>.json` and rendered by `tests/reliability/report.py`.", ""]
    lines += table(runs, "Faults survived", FAULTS)
    lines += table(runs, "Requests under load", LOAD)
    lines += table(runs, "Bad inputs tried", BAD_INPUT)
    lines += table(runs, "Access-control cases checked", ACCESS)
    lines += table(runs, "Data safety", DATA)
    totals = []
    for backend, run in runs.items():
        tests = run.get("tests", {})
        count = sum(lost(tests[name], *keys) for name, keys in LOST_KEYS.items() if name in tests)
        totals.append(f"{backend}: **{count}**")
    lines += ["### Anything lost", "",
              "E-mails and webhook events lost, `sent` e-mails sent again, parcels received twice, "
              "orders missing, actions half done, units over-shipped, rows lost, data leaked to another "
              "seller, 5xx under load, requests held by SMTP, guesses let through beyond a limit, unsafe "
              "production settings started — "
              "summed: " + ", ".join(totals) + ".", ""]
    return "\n".join(lines)


def main() -> None:
    runs = load()
    if not runs:
        sys.exit("No figures yet: run `python -m pytest -m reliability` first.")
    text = render(runs)
    if "--write" in sys.argv:
        document = DOCUMENT.read_text()
        head, _, rest = document.partition(START)
        _, _, tail = rest.partition(END)
        DOCUMENT.write_text(f"{head}{START}\n{text}\n{END}{tail}")
        print(f"{DOCUMENT.name} updated")
    else:
        print(text)


if __name__ == "__main__":
    main()
