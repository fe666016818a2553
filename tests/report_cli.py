"""`groksweep report` on real sweep outputs.

usage: report_cli.py GROKSWEEP WORKDIR

- A small sweep (derived from sweep_tiny.json, with comprehension, grokking,
  memorization and seeds that disagree) runs to completion; the report's
  header, grid, counts, phase maps and delay grids are checked against the
  file as h5py reads it, side by side and stacked, with --rows/--cols too.
- Colour: none through a pipe, --color forces it; on a terminal (a pty)
  colour unless NO_COLOR is set or --no-color is given.
- A copy edited with h5py: diverged, failed and not-run points, a tie
  between seeds, a Slurm job id, a point caught mid-write; and inferred
  points (every seed of a cell: its phase in lower case; one seed among
  trained ones: the trained seeds decide), counted apart, --point saying so.
- sweep_slow.json running in the background: report while it runs (the
  writer holds HDF5's file lock), then after SIGTERM on the interrupted file.
- A missing file, a text file, HDF5 files that are not sweeps, a newer format
  version: exit 2 with one line; a truncated sweep file: exit 1.
"""
import itertools
import json
import os
import pty
import re
import shutil
import signal
import subprocess
import sys
import time

os.environ["HDF5_USE_FILE_LOCKING"] = "FALSE"  # h5py reads the file of a running sweep too
import h5py  # noqa: E402
import numpy as np  # noqa: E402
import sweep_files  # noqa: E402
from harness import ENV, check, finish  # noqa: E402
from sweep_files import SLOW, TINY, wait_for_records  # noqa: E402

GROKSWEEP, WORKDIR = sys.argv[1:3]
ENV.pop("NO_COLOR", None)
ORDER = "CGMX!F"  # legend order: ties between seeds go to the first
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def path(name):
    return os.path.join(WORKDIR, name)


def fresh(name):
    return sweep_files.fresh(WORKDIR, name)


def report(file, *args, columns=200, env=None):
    e = dict(ENV, COLUMNS=str(columns), **(env or {}))
    return subprocess.run([GROKSWEEP, "report", file, *args], env=e, capture_output=True, text=True, timeout=120)


# ---- what the file holds, as h5py reads it ----------------------------------------------------

def labels(values):
    """The C side's labels: integers whole, reals the shortest %.Ng (N >= 3) telling them apart."""
    if values.dtype.kind in "iu":
        return ["%.0f" % v for v in values]
    for precision in range(3, 18):
        out = ["%.*g" % (precision, v) for v in values]
        clash = any(out[a] == out[b] and values[a] != values[b]
                    for a in range(len(out)) for b in range(a + 1, len(out)))
        if not clash:
            break
    return out


def load(file):
    with h5py.File(file, "r") as f:
        st = f["status"]
        names = [st.dims[d][0].name.lstrip("/") for d in range(st.ndim)]
        return {
            "names": names,
            "coords": [f[n][...] for n in names],
            "labels": [labels(f[n][...]) for n in names],
            "status": f["status"][...], "phase": f["phase"][...],
            "train90": f["train_acc_step_90"][...], "test90": f["test_acc_step_90"][...],
            "attrs": {k: f.attrs[k].decode() if isinstance(f.attrs[k], bytes) else f.attrs[k] for k in f.attrs},
        }


def compact(v):
    a = abs(v)
    if a < 999.5:
        return "%.0f" % v
    if a < 9950:
        return "%.1fk" % (v / 1000)
    if a < 999500:
        return "%.0fk" % (v / 1000)
    return "%.1fM" % (v / 1e6)


def expected_cell(d, points):
    cats = []
    inferred = []
    delays = []
    for p in points:
        status = d["status"][p]
        if status == 1:
            cats.append("CGMX"[d["phase"][p] - 1])
            if d["train90"][p] >= 0 and d["test90"][p] >= 0:
                delays.append(int(d["test90"][p]) - int(d["train90"][p]))
        elif status == 2:
            cats.append("!")
        elif status == 3:
            cats.append("F")
        elif status == 4:
            inferred.append("cgmx"[d["phase"][p] - 1])
    if cats:
        best = max(ORDER, key=lambda c: (cats.count(c), -ORDER.index(c)))
        symbol = best + ("?" if len(set(cats)) > 1 else "")
    elif inferred:  # no seed trained: the inferred phase, in lower case
        best = max("cgmx", key=lambda c: (inferred.count(c), -"cgmx".index(c)))
        symbol = best + ("?" if len(set(inferred)) > 1 else "")
    else:
        symbol = "."
    return symbol, compact(float(np.median(delays))) if delays else "-"


def expected_map(d, rows, cols):
    names = d["names"]
    r, c = names.index(rows), names.index(cols)
    seed = names.index("seed") if "seed" in names and "seed" not in (rows, cols) else None
    panel_axes = [a for a in range(len(names)) if a not in (r, c, seed)]
    panels = []
    for combo in itertools.product(*[range(len(d["coords"][a])) for a in panel_axes]):
        title = {names[a]: d["labels"][a][k] for a, k in zip(panel_axes, combo)}
        phase, delay = [], []
        for i in range(len(d["coords"][r])):
            prow, drow = [], []
            for j in range(len(d["coords"][c])):
                points = []
                for s in range(len(d["coords"][seed]) if seed is not None else 1):
                    index = [0] * len(names)
                    for a, k in zip(panel_axes, combo):
                        index[a] = k
                    index[r], index[c] = i, j
                    if seed is not None:
                        index[seed] = s
                    points.append(tuple(index))
                symbol, dl = expected_cell(d, points)
                prow.append(symbol)
                drow.append(dl)
            phase.append(prow)
            delay.append(drow)
        panels.append((title, phase, delay))
    return {"seeds": len(d["coords"][seed]) if seed is not None else None, "panels": panels,
            "row_labels": d["labels"][r], "col_labels": d["labels"][c]}


# ---- what the report printed ------------------------------------------------------------------

MAP_HEADING = re.compile(r"^(\w+) x (\w+)(?: \(majority of (\d+) seeds\))?:$")
PANEL_TITLE = re.compile(r"^  (\w+ = [^,\s]+(?:, \w+ = [^,\s]+)*)$")


def parse_maps(text):
    """Maps as printed: [{rows, cols, seeds, panels: [{title, phase, delay, col_labels, row_labels}]}]."""
    lines = text.splitlines()
    maps = []
    i = 0
    while i < len(lines):
        line = lines[i]
        heading = MAP_HEADING.match(line)
        if heading:
            maps.append({"rows": heading.group(1), "cols": heading.group(2),
                         "seeds": int(heading.group(3)) if heading.group(3) else None, "panels": []})
            i += 1
            continue
        title = PANEL_TITLE.match(line) if maps else None
        if title:
            maps[-1]["panels"].append({"title": dict(item.split(" = ") for item in title.group(1).split(", "))})
            i += 1
            continue
        words = line.split()
        if maps and words and words[0] in ("phase", "delay"):
            kinds = ["phase", "delay"] if "phase" in words and "delay" in words else [words[0]]
            m = maps[-1]
            if not m["panels"] or any(k in m["panels"][-1] for k in kinds):
                m["panels"].append({"title": {}})
            panel = m["panels"][-1]
            header = lines[i + 1].split()
            ok = header[0] == m["cols"] and lines[i + 2].strip() == m["rows"]
            check(ok, f"block header names the axes: {lines[i + 1]!r} {lines[i + 2]!r}")
            n = (len(header) - 1) // len(kinds)
            panel["col_labels"] = header[1:1 + n]
            if len(kinds) == 2:
                check(header[1:1 + n] == header[1 + n:], "both blocks have the same column labels")
            rows, j = [], i + 3
            while j < len(lines) and lines[j].strip() and lines[j].split()[0] not in ("phase", "delay"):
                rows.append(lines[j].split())
                j += 1
            panel["row_labels"] = [row[0] for row in rows]
            for k, kind in enumerate(kinds):
                panel[kind] = [row[1 + k * n:1 + (k + 1) * n] for row in rows]
                check(all(len(row) == 1 + n * len(kinds) for row in rows), f"row lengths in {kind} block")
            i = j
            continue
        i += 1
    return maps


def header_fields(text):
    fields = {}
    for line in text.splitlines():
        if not line.strip():
            break
        match = re.match(r"^(\w+):\s+(.*)$", line)
        if match:
            fields.setdefault(match.group(1), match.group(2))
    return fields


def check_header(out, d, file, what):
    fields = header_fields(out)
    a = d["attrs"]
    check(fields.get("file") == file, f"{what}: file line: {fields.get('file')!r}")
    written = f"groksweep {a['groksweep_version']}, created {a['created']}, {a['mpi_ranks']} MPI rank"
    if a["mpi_ranks"] != 1:
        written += "s"
    if "slurm_job_id" in a:
        written += f", Slurm job {a['slurm_job_id']}"
    check(fields.get("written") == written, f"{what}: written line {fields.get('written')!r}, expected {written!r}")
    check(fields.get("grid", "").startswith(f"{d['status'].size} points, {len(d['names'])} axes"),
          f"{what}: grid line {fields.get('grid')!r}")
    for name, coord, labs in zip(d["names"], d["coords"], d["labels"]):
        pattern = rf"^  {name}\s+{len(coord)}: {re.escape(', '.join(labs))}$"
        check(re.search(pattern, out, re.M) is not None, f"{what}: grid line for {name}")
    st = d["status"]
    counts = [int((st == k).sum()) for k in range(5)]
    points = f"{counts[1]} done, {counts[2]} diverged, {counts[3]} failed, {counts[0]} not run"
    if counts[4]:
        points += f", {counts[4]} inferred (not trained)"
        guessed = d["phase"][st == 4]
        line = (f"inferred:  {(guessed == 1).sum()} comprehension, {(guessed == 2).sum()} grokking, "
                f"{(guessed == 3).sum()} memorization, {(guessed == 4).sum()} confusion (the phases of their "
                "refinement cells)\n")
        check(line in out, f"{what}: inferred line, expected {line!r}")
    else:
        check("inferred" not in out.replace(file, ""), f"{what}: no inferred points, no word of them")
    check(fields.get("points") == points, f"{what}: points line {fields.get('points')!r}, expected {points!r}")
    done = d["phase"][st == 1]
    phases = (f"{(done == 1).sum()} comprehension, {(done == 2).sum()} grokking, {(done == 3).sum()} memorization, "
              f"{(done == 4).sum()} confusion")
    check(f"phases:    {phases}\n" in out, f"{what}: phases line, expected {phases!r}")
    finished = int(((st > 0) & (st < 4)).sum())
    note = f"(sweep in progress or interrupted: {finished} of {st.size} points done"
    note += f", {counts[4]} inferred)" if counts[4] else ")"
    if finished + counts[4] < st.size:
        check(note in out, f"{what}: says {note!r}")
    else:
        check("in progress" not in out, f"{what}: a complete sweep is not called in progress")


def check_map(printed, d, rows, cols, what):
    expected = expected_map(d, rows, cols)
    check(printed["seeds"] == expected["seeds"], f"{what}: seeds in the heading: {printed['seeds']}")
    check(len(printed["panels"]) == len(expected["panels"]),
          f"{what}: {len(printed['panels'])} panels, expected {len(expected['panels'])}")
    for k, (panel, (title, phase, delay)) in enumerate(zip(printed["panels"], expected["panels"])):
        where = f"{what}, panel {k} {title}"
        check(panel["title"] == title, f"{where}: title {panel['title']}")
        check(panel.get("col_labels") == expected["col_labels"], f"{where}: column labels {panel.get('col_labels')}")
        check(panel.get("row_labels") == expected["row_labels"], f"{where}: row labels {panel.get('row_labels')}")
        check(panel.get("phase") == phase, f"{where}: phase map {panel.get('phase')}, expected {phase}")
        check(panel.get("delay") == delay, f"{where}: delays {panel.get('delay')}, expected {delay}")


def check_report(file, what, columns=200, maps=None, args=()):
    """Report on a file nothing writes to: header and every map against h5py."""
    d = load(file)
    result = report(file, *args, columns=columns)
    check(result.returncode == 0, f"{what}: exit 0, got {result.returncode}: {result.stderr}")
    check(result.stderr == "", f"{what}: nothing on stderr: {result.stderr!r}")
    check(not ANSI.search(result.stdout), f"{what}: no colour through a pipe")
    check_header(result.stdout, d, file, what)
    printed = parse_maps(result.stdout)
    maps = maps or [("data_fraction", "weight_decay"), ("init_scale", "weight_decay")]
    check([(m["rows"], m["cols"]) for m in printed] == maps, f"{what}: maps {[(m['rows'], m['cols']) for m in printed]}")
    for m, (rows, cols) in zip(printed, maps):
        check_map(m, d, rows, cols, f"{what}: {rows} x {cols}")
    return result.stdout


# ---- the cases --------------------------------------------------------------------------------

def mixed_sweep():
    """A 54-point sweep showing comprehension, grokking and memorization, with disagreeing seeds."""
    with open(TINY) as f:
        sweep = json.load(f)
    sweep["model"]["width"] = 64
    sweep["train"]["steps"] = 400
    sweep["phase"]["delay_steps"] = 60
    sweep["grid"] = {"data_fraction": [0.4, 0.6, 0.8], "weight_decay": [0, 0.3, 3], "init_scale": [0.5, 1],
                     "seed": 3}
    sweep_path = path("mixed.json")
    with open(sweep_path, "w") as f:
        json.dump(sweep, f)
    out = fresh("mixed.h5")
    result = subprocess.run([GROKSWEEP, "run", sweep_path, "-o", out, "--quiet"], env=ENV, capture_output=True,
                            text=True, timeout=600)
    check(result.returncode == 0, f"mixed sweep runs: {result.stderr}")
    return out


def complete(out):
    d = load(out)
    phases = set(d["phase"][d["status"] == 1].ravel())
    check({1, 2, 3} <= phases, f"the mixed sweep shows comprehension, grokking and memorization: {phases}")
    side = check_report(out, "complete, side by side", columns=200)
    check("?" in side, "some cell's seeds disagree")
    stacked = check_report(out, "complete, stacked", columns=40)
    check(side != stacked, "a narrow terminal stacks the delay grid under the phase map")
    check(not any(line.endswith(" ") for line in side.splitlines() + stacked.splitlines()), "no trailing blanks")
    check_report(out, "--rows seed --cols weight_decay", maps=[("seed", "weight_decay")],
                 args=("--rows", "seed", "--cols", "weight_decay"))
    check_report(out, "--rows init_scale", maps=[("init_scale", "weight_decay")], args=("--rows", "init_scale"))
    check_report(out, "--cols data_fraction --rows weight_decay", maps=[("weight_decay", "data_fraction")],
                 args=("--cols", "data_fraction", "--rows", "weight_decay"))

    # colour: forced through a pipe; same text once the escapes are stripped
    plain = report(out, "--no-color").stdout
    colored = report(out, "--color")
    check(ANSI.search(colored.stdout) is not None, "--color: ANSI colours through a pipe")
    check(ANSI.sub("", colored.stdout) == plain, "--color: the same text as --no-color apart from escapes")
    # on a terminal: colour unless NO_COLOR or --no-color
    check(ANSI.search(on_terminal(out)) is not None, "a terminal gets colour")
    check(ANSI.search(on_terminal(out, env={"NO_COLOR": "1"})) is None, "NO_COLOR=1: no colour on a terminal")
    check(ANSI.search(on_terminal(out, "--no-color")) is None, "--no-color: no colour on a terminal")

    # bad options
    for args, needles in [(("--rows", "bogus"), ["--rows bogus", "no such axis", "data_fraction, weight_decay"]),
                          (("--rows", "weight_decay"), ["--rows and --cols", "weight_decay"]),
                          (("--cols",), ["--cols needs"]),
                          (("--colour",), ["unknown option --colour"]),
                          ((out,), ["one OUT.h5 expected"])]:
        result = report(out, *args)
        message = result.stderr.strip()
        check(result.returncode == 2 and result.stdout == "", f"report {args}: exit 2, got {result.returncode}")
        check(len(message.splitlines()) == 1 and all(n in message for n in needles),
              f"report {args}: one line naming the problem: {message!r}")


def on_terminal(file, *args, env=None):
    master, slave = pty.openpty()
    e = dict(ENV, COLUMNS="200", **(env or {}))
    process = subprocess.Popen([GROKSWEEP, "report", file, *args], env=e, stdout=slave, stderr=subprocess.PIPE)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=60)
    os.close(master)
    return b"".join(chunks).decode()


def edited(out):
    """Diverged, failed and not-run points, a tie between seeds, a Slurm job id."""
    copy = path("edited.h5")
    shutil.copyfile(out, copy)
    with h5py.File(copy, "r+") as f:
        status, phase = f["status"][...], f["phase"][...]
        # (data_fraction, weight_decay, init_scale, seed)
        status[0, 0, 0, :] = 2                     # every seed diverged: !
        phase[0, 0, 0, :] = 0
        status[0, 1, 0, 0], phase[0, 1, 0, 0] = 3, 0  # one failed seed among memorized ones: M?
        status[1, 0, 1, :] = 0                     # no seed ran: .
        status[2, 2, 1, 0] = 0                     # one seed not run, the others disagree: a tie
        phase[2, 2, 1, 1], phase[2, 2, 1, 2] = 3, 2
        status[2, 2, 1, 1:] = 1
        status[1, 1, 0, 0:2], phase[1, 1, 0, 0:2] = 3, 0  # two failed seeds: F?
        f["status"][...] = status
        f["phase"][...] = phase
        f.attrs["slurm_job_id"] = "4242"
    out_text = check_report(copy, "edited copy")
    d = load(copy)
    maps = parse_maps(out_text)
    first = maps[0]["panels"][1]["phase"] if maps else None  # init_scale = 1
    check(first is not None and first[2][2] == "G?", f"a tie between seeds goes to G, the first listed: {first}")
    shown = {c for m in maps for p in m["panels"] for row in p.get("phase", []) for c in row}
    check({"!", "F?", ".", "M?"} <= shown, f"diverged, failed and not-run symbols shown: {shown}")
    check(int((d["status"] == 0).sum()) > 0, "the edited copy has points not run")

    inferred(out)

    # a point that reads done without a phase was caught mid-write: retried, then shown as not run
    with h5py.File(copy, "r+") as f:
        phase = f["phase"][...]
        phase[2, 0, 0, 0] = 0
        f["phase"][...] = phase
    result = report(copy)
    check(result.returncode == 0 and "(1 point was being written while read: shown as not run)" in result.stdout,
          f"an unsettled point is reported: {result.stdout[-400:]!r} {result.stderr!r}")


def inferred(out):
    """Inferred points as adaptive refinement writes them: status 4, the cell's phase, the rest fill."""
    copy = path("inferred.h5")
    shutil.copyfile(out, copy)
    with h5py.File(copy, "r+") as f:
        status, phase = f["status"][...], f["phase"][...]
        # (data_fraction, weight_decay, init_scale, seed)
        cell, seed = (2, 0, 1), (0, 2, 0, 1)
        status[cell], phase[cell] = 4, 1          # every seed inferred comprehension: c
        status[seed], phase[seed] = 4, 4          # one seed inferred confusion: the trained ones decide
        f["status"][...], f["phase"][...] = status, phase
        for name in ("train_acc_step_90", "test_acc_step_90", "wall_seconds", "steps_run"):
            values = f[name][...]
            fill = np.asarray(f[name].attrs["_FillValue"]).ravel()[0]
            values[cell], values[seed] = fill, fill
            f[name][...] = values
    text = check_report(copy, "inferred points")
    maps = parse_maps(text)
    shown = [p["phase"][2][0] for p in maps[0]["panels"]] if maps else []
    check(shown[1:2] == ["c"], f"every seed inferred: the phase in lower case: {shown}")
    check("c g m x inferred (not trained)" in text and "inferred points were not trained: they have no delay" in text,
          "the legend names inferred cells and says they have no delay")
    n_seeds = 3
    point = ((2 * 3 + 0) * 2 + 1) * n_seeds + 0  # row-major index of data_fraction 2, weight_decay 0, init_scale 1
    result = report(copy, "--point", str(point))
    check(result.returncode == 0 and "status:    inferred, comprehension (not trained" in result.stdout and
          "90% accuracy" not in result.stdout, f"--point of an inferred point says so: {result.stdout!r}")
    data = json.loads(report(copy, "--format", "json").stdout)
    check(data["status"].get("inferred") == 4 and data["inferred_phases"] == {"comprehension": 3, "grokking": 0,
                                                                             "memorization": 0, "confusion": 1},
          f"json: inferred counted apart: {data['status']} {data.get('inferred_phases')}")
    check(all(p["status"] != "inferred" for p in data["not_done"]), "json: inferred points are not listed as not done")
    markdown = report(copy, "--format", "markdown").stdout
    check(", 4 inferred (not trained)" in markdown, "markdown: the inferred count")


def running_and_interrupted():
    out = fresh("slow.h5")
    process = subprocess.Popen([GROKSWEEP, "run", SLOW, "-o", out, "--quiet"], env=ENV, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        check(wait_for_records(out, 3, SLOW), "the sweep journaled three points")
        # the file lags the journal by at most its flush interval (2 s)
        for _ in range(100):
            try:
                if int((load(out)["status"] > 0).sum()) >= 2:
                    break
            except Exception:  # the writer was mid-flush
                pass
            time.sleep(0.1)
        exact = False
        for attempt in range(10):
            try:
                before = load(out)
            except Exception:  # the writer was mid-flush
                time.sleep(0.1)
                continue
            result = report(out)
            try:
                after = load(out)
            except Exception:
                time.sleep(0.1)
                continue
            still_running = process.poll() is None
            check(result.returncode == 0, f"report while running: exit 0, got {result.returncode}: {result.stderr}")
            check(result.stderr == "", f"report while running: nothing on stderr: {result.stderr!r}")
            check(still_running, "the sweep was still running during the report")
            match = re.search(r"\(sweep in progress or interrupted: (\d+) of 16 points done\)", result.stdout)
            check(match is not None, f"report while running says in progress: {result.stdout!r}")
            if match:
                n = int(match.group(1))
                lo, hi = int((before["status"] > 0).sum()), int((after["status"] > 0).sum())
                check(2 <= n and lo <= n <= hi, f"while running: {n} done, h5py saw {lo} before and {hi} after")
            if all(np.array_equal(before[k], after[k]) for k in ("status", "phase", "train90", "test90")):
                check_header(result.stdout, before, out, "while running")
                printed = parse_maps(result.stdout)
                check(len(printed) == 2, "while running: two maps")
                for m in printed:
                    check_map(m, before, m["rows"], m["cols"], f"while running: {m['rows']} x {m['cols']}")
                check(any(c == "." for m in printed for p in m["panels"] for row in p.get("phase", []) for c in row),
                      "while running: cells not run show as .")
                exact = True
                break
        check(exact, "a report while running matched an unchanging h5py snapshot")
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=120)
    check(process.returncode == 3, f"SIGTERM: exit status 3, got {process.returncode}: {stderr}")
    d = load(out)
    done = int((d["status"] > 0).sum())
    check(0 < done < 16, f"an interrupted file: {done} of 16 points done")
    text = check_report(out, "interrupted")
    check(f"(sweep in progress or interrupted: {done} of 16 points done)" in text, "interrupted: the count")






def bad_files(out):
    def expect(file, status, needles, what):
        result = report(file)
        message = result.stderr.strip()
        check(result.returncode == status, f"{what}: exit {status}, got {result.returncode}: {message!r}")
        check(result.stdout == "", f"{what}: nothing on stdout")
        check(len(message.splitlines()) == 1 and message.startswith("groksweep report: "),
              f"{what}: one line: {message!r}")
        for needle in needles:
            check(needle in message, f"{what}: names {needle!r}: {message!r}")

    missing = path("no_such.h5")
    expect(missing, 2, [missing, "No such file"], "a missing file")
    text = path("text.h5")
    with open(text, "w") as f:
        f.write("not HDF5 at all\n")
    expect(text, 2, [text, "not a groksweep sweep file", "not an HDF5 file"], "a text file")
    expect(WORKDIR, 2, ["cannot read"], "a directory")
    other = path("other.h5")
    with h5py.File(other, "w") as f:
        f["x"] = np.arange(3)
    expect(other, 2, [other, "not a groksweep sweep file", "format"], "an HDF5 file without format")
    with h5py.File(other, "w") as f:
        f.attrs["format"] = "netcdf-something"
    expect(other, 2, ["not a groksweep sweep file", "netcdf-something"], "an HDF5 file of another format")
    newer = path("newer.h5")
    shutil.copyfile(out, newer)
    with h5py.File(newer, "r+") as f:
        f.attrs.modify("format_version", np.int32(3))
    expect(newer, 2, ["format_version 3", "reads version 2"], "a newer format version")
    no_phase = path("no_phase.h5")
    shutil.copyfile(out, no_phase)
    with h5py.File(no_phase, "r+") as f:
        del f["phase"]
    expect(no_phase, 2, ["not a groksweep sweep file", "phase"], "a sweep file without phase")
    truncated = path("truncated.h5")
    with open(out, "rb") as f, open(truncated, "wb") as g:
        g.write(f.read(os.path.getsize(out) // 3))
    expect(truncated, 1, [truncated], "a truncated sweep file")

    result = subprocess.run([GROKSWEEP, "report"], env=ENV, capture_output=True, text=True)
    check(result.returncode == 2 and "missing OUT.h5" in result.stderr, f"no file: {result.stderr!r}")


def help_texts():
    result = subprocess.run([GROKSWEEP, "report", "--help"], env=ENV, capture_output=True, text=True)
    check(result.returncode == 0, "report --help exits 0")
    for needle in ("usage: groksweep report OUT.h5", "--rows", "--cols", "--no-color", "NO_COLOR", "comprehension",
                   "test_acc_step_90", "still running", "exit status"):
        check(needle in result.stdout, f"report --help mentions {needle!r}")
    result = subprocess.run([GROKSWEEP, "--help"], env=ENV, capture_output=True, text=True)
    check("report OUT.h5" in result.stdout, "groksweep --help lists report")


started = time.time()
os.makedirs(WORKDIR, exist_ok=True)
help_texts()
mixed = mixed_sweep()
if os.path.exists(mixed):
    complete(mixed)
    edited(mixed)
    bad_files(mixed)
running_and_interrupted()
finish(f" ({time.time() - started:.0f} s)")
