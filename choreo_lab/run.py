"""`choreo-lab run <workflow>`: one of the course's workflows, run in the terminal.

    choreo-lab run orders --count 5 --kill payment@0 --restart payment@50ms --follow o-2
    choreo-lab run orders --backend nats --count 300 --kill payment@2s --restart payment@4s

In the simulation (`--backend memory`, the default) it starts `--count` seeded workflow
instances (some fail on purpose), kills and restarts services at the virtual times given,
runs until idle and prints the workflows, the consistency report and the event log - or,
with `--follow ID`, that one instance in words, its log and its Mermaid sequence diagram.
Same seed, same output.

On NATS JetStream (`--backend nats`) it starts a nats-server (unless `--server URL`), one
worker process per service, places the requests at `--rate` per second, shows a live table
of the services (status, process ids, backlog, in flight, handled, dead letters) and, at
the times given, kill -9s a service's processes and starts them again. At the end: whether
the workflow's invariants hold over the services' own databases.

The workflows come from the course's catalogue (`choreo_lab.examples.catalog`).
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from .consistency import ConsistencyReport
from .errors import UnknownService
from .events import Message
from .examples.catalog import WORKFLOWS, Workflow, workflow
from .service import Service
from .text import did_you_mean

#: How many ids an error message lists before "..."
FIRST_FEW = 5


class Requests:
    """Stands in for a runtime while a workflow's `start` publishes its work: keeps each
    publish, so the runner can release them at its own pace."""

    def __init__(self) -> None:
        self.pending: list[tuple[Message, dict[str, Any]]] = []

    def publish(self, event: Message, **options: Any) -> SimpleNamespace:
        self.pending.append((event, options))
        correlation_id = options.get("correlation_id") or f"c{len(self.pending)}"
        return SimpleNamespace(correlation_id=correlation_id)


@dataclass(frozen=True)
class Action:
    """kill or restart `service` at `at` seconds after the start."""

    kind: str
    service: str
    at: float
    text: str = field(default="", compare=False)  # as typed, for messages: "payment@2s"

    def __str__(self) -> str:
        return f"--{self.kind} {self.text or f'{self.service}@{self.at:g}s'}"


def parse_action(kind: str, text: str) -> Action:
    """'payment@2s' (or @2.5, @1500ms) -> Action(kind, 'payment', 2.0, 'payment@2s')."""
    found = re.fullmatch(r"([A-Za-z0-9_-]+)@(\d+(?:\.\d+)?)(ms|s)?", text)
    if found is None:
        raise argparse.ArgumentTypeError(f"--{kind} takes SERVICE@TIME, e.g. payment@2s or "
                                         f"payment@1500ms; got {text!r}")
    service, number, unit = found.groups()
    return Action(kind, service, float(number) / (1000 if unit == "ms" else 1), text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from .cli import above_zero, at_least, seconds

    parser.add_argument("workflow", choices=sorted(WORKFLOWS), help="the workflow to run")
    parser.add_argument("--backend", choices=("memory", "nats"), default="memory",
                        help="memory: the simulation (default); nats: services as processes "
                             "on NATS JetStream")
    parser.add_argument("--count", type=at_least(1), default=None, metavar="N",
                        help="how many workflow instances (default: 5 in memory, 200 on nats)")
    parser.add_argument("--seed", type=int, default=7, help="the seed (default: 7)")
    parser.add_argument("--kill", action="append", default=[], metavar="SERVICE@TIME",
                        type=lambda text: parse_action("kill", text),
                        help="kill a service at a time (virtual in memory), e.g. payment@0 or "
                             "payment@2s")
    parser.add_argument("--restart", action="append", default=[], metavar="SERVICE@TIME",
                        type=lambda text: parse_action("restart", text),
                        help="start it again, e.g. payment@50ms")
    parser.add_argument("--follow", metavar="ID",
                        help="memory: follow one instance: in words, its log and its diagram")
    parser.add_argument("--states", action="store_true",
                        help="memory: also print every service's state")
    rows = parser.add_mutually_exclusive_group()
    rows.add_argument("--rows", type=at_least(1), default=None, metavar="N",
                      help=f"memory: show the first N workflows and log rows "
                           f"(default: {ROWS}; {FOLLOWED_ROWS} with --follow)")
    rows.add_argument("--all-rows", action="store_true",
                      help="memory: show every workflow and every log row")
    parser.add_argument("--server", metavar="URL",
                        help="nats: a running nats-server (comma-separated for a cluster); "
                             "default: start one")
    parser.add_argument("--rate", type=above_zero("requests a second"), default=None,
                        help=f"nats: requests placed per second (default: {RATE:g})")
    parser.add_argument("--timeout", type=seconds, default=None,
                        help=f"nats: seconds to wait for the system to settle at the end "
                             f"(default: {TIMEOUT:g})")
    parser.add_argument("--no-live", action="store_true",
                        help="nats: print the table at the end only (for logs and CI)")


#: The NATS backend's defaults for --rate (requests a second) and --timeout (seconds).
RATE, TIMEOUT = 100.0, 120.0
#: The options each backend alone reads, with the value that means "not given".
ONLY_FOR = {"nats": {"server": None, "rate": None, "timeout": None, "no_live": False},
            "memory": {"follow": None, "states": False, "rows": None, "all_rows": False}}
#: Workflows and log rows shown unless --rows or --all-rows says otherwise.
ROWS = 40
#: Log rows of a followed workflow shown unless --rows or --all-rows says otherwise.
FOLLOWED_ROWS = 100
#: What the end of a cut log says.
MORE_ROWS = "--rows N or --all-rows shows more; --follow ID one workflow"


def main(args: argparse.Namespace) -> int:
    chosen = workflow(args.workflow)
    actions = sorted([*args.kill, *args.restart], key=lambda action: action.at)
    misplaced = _misplaced(args)
    if misplaced:
        return _refuse(misplaced)
    if args.backend == "memory":
        return run_in_memory(chosen, args.count or 5, args, actions)
    args.count = args.count or 200
    args.rate = RATE if args.rate is None else args.rate
    args.timeout = TIMEOUT if args.timeout is None else args.timeout
    return run_on_nats(chosen, args, actions, Console())


def _misplaced(args: argparse.Namespace) -> str | None:
    """What is wrong when an option of the other backend is given (it would do nothing)."""
    other = "memory" if args.backend == "nats" else "nats"
    given = [f"--{name.replace('_', '-')}" for name, unset in ONLY_FOR[other].items()
             if getattr(args, name) != unset]
    if not given:
        return None
    is_are = "is" if len(given) == 1 else "are"
    if other == "nats":
        return (f"{' and '.join(given)} {is_are} for --backend nats, and the simulation "
                f"ignores {'it' if len(given) == 1 else 'them'}: add --backend nats, or leave "
                f"{'it' if len(given) == 1 else 'them'} out")
    return (f"{' and '.join(given)} {is_are} for the simulation (--backend memory) only: "
            f"leave {'it' if len(given) == 1 else 'them'} out, or leave out --backend nats")


def run_on_nats(chosen: Workflow, args: argparse.Namespace, actions: list[Action],
                console: Console) -> int:
    from .errors import ChoreoError
    from .nats import NatsRuntime, NatsUnreachable, NotQuiet, missing_pieces

    lacking = _lacking_on_nats(chosen)
    missing = lacking or missing_pieces()
    if missing:
        return _refuse(lacking or f"The NATS backend cannot run here: {missing}")
    try:
        _check_actions(actions, chosen.services())
        services = services_in_real_time(chosen)
        requests = Requests()
        chosen.start(requests, args.count, args.seed)
        servers = args.server.split(",") if args.server else None
        console.print(f"starting {len(services)} services as processes on "
                      f"{'the server at ' + args.server if servers else 'a new nats-server'}...")
        with NatsRuntime(services, server=servers, ack_wait=ack_wait_for(services)) as runtime:
            return drive(console, chosen, runtime, requests, args, actions)
    except NatsUnreachable as error:
        return _refuse(f"cannot connect to {', '.join(error.servers)}: {error.reason}; "
                       "start a server there or leave out --server")
    except NotQuiet as error:
        _refuse(str(error))
        return 1
    except KeyboardInterrupt:  # the runtime has stopped its workers and server on the way out
        _refuse("interrupted: the services' processes are stopped")
        return 130
    except (ChoreoError, ValueError, SystemExit) as error:
        return _refuse(str(error))


def _lacking_on_nats(chosen: Workflow) -> str | None:
    """Why `chosen` cannot run on NATS (a feature it needs that NATS lacks), or None."""
    from .nats import NATS_FEATURES

    lacking = [need for need in chosen.needs if not getattr(NATS_FEATURES, need)]
    if not lacking:
        return None
    return (f"{chosen.name} needs {' and '.join(lacking)}, and the NATS backend has none "
            f"(see NatsRuntime.features): run it in the simulation (in memory) with "
            f"`choreo-lab run {chosen.name}`")


#: Real ms per virtual ms on NATS: a 3-minute transcode takes 180 ms.
REAL_TIME = 0.001
#: The broker's ack_wait (ms) unless a service is slow: then 4 times its time per message.
ACK_WAIT = 1000


def services_in_real_time(chosen: Workflow) -> list[Service]:
    """The workflow's services for real processes: virtual processing times scaled to
    `REAL_TIME`, each service remembering how a worker builds it."""
    from .nats import services_from

    return services_from("choreo_lab.nats.sources:time_scaled", factory=spec_of(chosen.services),
                         scale=REAL_TIME)


def ack_wait_for(services: list[Service]) -> int:
    """An ack_wait (ms) the slowest service finishes well within."""
    return max(ACK_WAIT, 4 * max((service.processing_time for service in services), default=0))


def drive(console: Console, chosen: Workflow, runtime: Any, requests: Requests,
          args: argparse.Namespace, actions: list[Action]) -> int:
    """Place the requests at --rate, kill and restart on time, wait for quiet, judge."""
    log: list[str] = []
    placed, start = 0, time.monotonic()
    total = len(requests.pending)
    with Live(console=console, refresh_per_second=4, transient=args.no_live) as live:
        while placed < total or actions:
            elapsed = time.monotonic() - start
            due = min(total, int(elapsed * args.rate) + 1)
            for event, options in requests.pending[placed:due]:
                runtime.publish(event, **options)
            placed = max(placed, due)
            while actions and actions[0].at <= elapsed:
                action = actions.pop(0)
                getattr(runtime, action.kind)(action.service)
                log.append(f"{elapsed:5.1f} s  {action.kind} {action.service}")
            live.update(status_view(runtime, log, placed, args.count))
            time.sleep(0.05)
        live.update(status_view(runtime, log, placed, args.count, "settling..."))
        runtime.run_until_idle(timeout=args.timeout)
        final = status_view(runtime, log, placed, args.count, "quiet")
        live.update(final)
    if args.no_live:
        console.print(final)
    elif not console.is_terminal:
        console.line()  # off a terminal, Live leaves its last line open
    return report(console, chosen, runtime)


def _refuse(message: str) -> int:
    """Say what is wrong on stderr, in red, on one line (no markup read from the message)."""
    Console(stderr=True).print(message, style="red", markup=False, soft_wrap=True)
    return 2


def spec_of(factory: Callable[..., Any]) -> str:
    """"package.module:function" of a module-level function (where a worker finds it)."""
    return f"{factory.__module__}:{factory.__qualname__}"


def status_view(runtime: Any, log: list[str], placed: int, count: int,
                note: str = "running") -> Group:
    """The live table: one row per service, then what happened (`placed` messages so far
    for `count` workflow instances)."""
    table = Table(title=f"{type(runtime).__name__}: {note}")
    for column in ("service", "status", "pids", "backlog", "in flight", "handled", "dead"):
        table.add_column(column, justify="left" if column in ("service", "status", "pids")
                         else "right")
    for name, row in runtime.stats().items():
        pids = " ".join(str(pid) for pid in runtime.pids(name)) if hasattr(runtime, "pids") else ""
        colour = "green" if row["status"] == "up" else "red"
        table.add_row(name, f"[{colour}]{row['status']}[/{colour}]", pids, str(row["backlog"]),
                      str(row["in_flight"]), str(row["handled"]), str(row["dead_lettered"]))
    return Group(table, f"requests placed: {placed} (for {count} workflows)", *log)


def report(console: Console, chosen: Workflow, runtime: Any) -> int:
    """The verdict over the services' own states: do the workflow's invariants hold?"""
    from .nats.snapshot import StateSnapshot

    invariants = chosen.oracle().invariants
    broken, unchecked = StateSnapshot.of(runtime).judge(invariants)
    letters = runtime.dead_letters
    checked = "all hold" if not broken else f"{len(broken)} broken"
    if len(unchecked) == len(invariants):
        checked = "none checked"
    elif unchecked:
        checked = f"{len(invariants) - len(unchecked)} of {len(invariants)} checked, {checked}"
    console.print(f"invariants: {checked}; dead letters: {len(letters)}")
    if unchecked:
        from .text import fit

        console.print(f"  not checked here (`choreo-lab run {chosen.name}` checks every one in "
                      "the simulation):", soft_wrap=True, markup=False)
        by_reason: dict[str, list[str]] = {}
        for name, reason in unchecked.items():
            by_reason.setdefault(reason, []).append(name)
        for reason, names in by_reason.items():
            console.print(fit(f"  - {', '.join(names)}: {reason}", width=console.width, indent=4),
                          soft_wrap=True, markup=False)
    for problem in broken[:10]:
        console.print(f"  {problem}", style="red", markup=False)
    return 1 if broken else 0


def run_in_memory(chosen: Workflow, count: int, args: argparse.Namespace,
                  actions: list[Action]) -> int:
    """The workflow in the simulation, shown with rich: what happened, and is it consistent?"""
    from .diagrams import sequence_diagram
    from .errors import ChoreoError
    from .faults import FaultPlan, Kill, Restart
    from .render import event_log, state_tables, workflow_table
    from .text import duration_text

    out = Console()
    try:
        _check_actions(actions, chosen.services())
        faults = [(Kill if action.kind == "kill" else Restart)(service=action.service,
                                                              at=int(action.at * 1000))
                  for action in actions]
        sim = chosen.system(args.seed, FaultPlan(faults=tuple(faults)))
        started = chosen.start(sim, count, args.seed)
        sim.run_until_idle()
        if args.follow is not None:
            _check_follow(args.follow, chosen.name, started, sim.trace.has_workflow)
        followed = chosen.explain(sim, args.follow) if args.follow is not None else None
    except (ChoreoError, ValueError, SystemExit) as error:  # nothing printed yet
        return _refuse(str(error))
    rows = None if args.all_rows else args.rows or ROWS
    out.print(workflow_table(sim, started, max_rows=rows, times=duration_text))
    out.print(consistency_text(chosen.oracle().check(sim)), soft_wrap=True)
    if followed is not None:
        out.print(followed)
        out.print(event_log(sim, args.follow, more="--rows N or --all-rows shows more",
                            max_rows=None if args.all_rows else args.rows or FOLLOWED_ROWS))
        out.print("\nMermaid sequence diagram (paste into any Mermaid viewer):")
        print(sequence_diagram(sim, args.follow).source)
    else:
        out.print(event_log(sim, max_rows=rows, more=MORE_ROWS))
    if args.states:
        out.print(state_tables(sim))
    return 0


def consistency_text(found: ConsistencyReport) -> str:
    """The consistency report for the terminal: its times as durations ("7 d", "24 min"),
    the time of a long run beside its ms (explain() keeps ms, which notebooks show)."""
    from .text import duration_text, fit

    without_times = replace(found, time_to_consistency={}, overall_time_to_consistency=None)
    lines = without_times.explain().splitlines()
    if found.now >= 60_000:
        lines[0] = lines[0].replace(f"t={found.now}:", f"t={found.now} "
                                    f"({duration_text(found.now)}):", 1)
    settled = {w: t for w, t in found.time_to_consistency.items() if t is not None}
    if settled:
        lines.append(fit("  time to consistency: " + ", ".join(
            f"{w} {duration_text(t)}" for w, t in settled.items())))
    if found.overall_time_to_consistency is not None:
        lines.append(f"  overall: consistent {duration_text(found.overall_time_to_consistency)}"
                     " after the first workflow started")
    return "\n".join(lines)


def _check_follow(wanted: str, name: str, started: list[str],
                  in_trace: Callable[[str], bool]) -> None:
    """Refuse a --follow id the run did not start, naming the first few it did."""
    if wanted in started or in_trace(wanted):
        return
    shown = ", ".join(started[:FIRST_FEW]) + (f", ... ({len(started)} in all)"
                                               if len(started) > FIRST_FEW else "")
    raise ValueError(f"--follow {wanted}: no workflow {wanted!r} in this {name} run; its ids: "
                     f"{shown or '(none)'}.{did_you_mean(wanted, started)}")


def _check_actions(actions: list[Action], services: list[Service]) -> None:
    """Refuse a kill or restart of a service the workflow lacks, or a restart before its
    kill (`actions` in time order)."""
    names = [service.name for service in services]
    for action in actions:
        if action.service not in names:
            raise SystemExit(f"--{action.kind} {action.service}@...: "
                             f"{UnknownService(action.service, names)}")
    for position, action in enumerate(actions):
        earlier = [a for a in actions[:position] if a.service == action.service]
        later = [a for a in actions[position + 1:] if a.service == action.service]
        kills = [a for a in later if a.kind == "kill"]
        if action.kind == "restart" and kills and not any(a.kind == "kill" for a in earlier):
            raise SystemExit(f"{action} comes before {kills[0]}, so {action.service} would "
                             "stay down: restart it later than the kill")
