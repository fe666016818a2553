"""A real sweep output in the analysis tools users load it with: ncdump,
nccopy to netCDF-4 classic and back (identical data in xarray), Octave with
octave-netcdf and R with ncdf4 (a variable, a coordinate, missing values,
flag_meanings, the sweep JSON); and a running sweep's file opened by h5py,
both xarray engines and ncdump without HDF5_USE_FILE_LOCKING.

usage: /usr/bin/python3 output_clients.py GROKSWEEP MPIEXEC WORKDIR

Exits 77 (skipped) when ncdump, octave or Rscript is missing (.ci/setup
--tests installs them).
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import xarray as xr

from harness import ENV, check, finish
from sweep_files import SLOW, TINY, wait_for_records

GROKSWEEP, MPIEXEC, WORKDIR = sys.argv[1:4]
CLIENT_ENV = {k: v for k, v in ENV.items() if k != "HDF5_USE_FILE_LOCKING"}


def tool(*argv, timeout=120):
    return subprocess.run(list(argv), env=CLIENT_ENV, capture_output=True, text=True, timeout=timeout)


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def reference(path):
    """What h5py reads: the values the other clients must agree with."""
    with h5py.File(path, "r") as f:
        return {"final_test_acc": f["final_test_acc"][...].astype(np.float64),
                "never_99": int((f["test_acc_step_99"][...] == -1).sum()),
                "weight_decay": f["weight_decay"][...].tolist(),
                "flag_meanings": text(f["phase"].attrs["flag_meanings"]),
                "sweep": json.loads(f.attrs["sweep"]),
                "shape": f["final_test_acc"].shape}


def netcdf_tools(path, ref):
    header = tool("ncdump", "-h", path)
    check(header.returncode == 0, f"ncdump -h: exit {header.returncode}: {header.stderr[-300:]}")
    for needle in (':Conventions = "CF-1.8"', "float final_test_acc(", ':flag_meanings = "none comprehension',
                   ':flag_meanings = "not_run done diverged failed inferred"', "int grokking_delay_90(",
                   ":history = "):
        check(needle in header.stdout, f"ncdump -h shows {needle!r}")
    classic, back = os.path.join(WORKDIR, "classic.nc"), os.path.join(WORKDIR, "back.h5")
    for kind, source, target in (("nc7", path, classic), ("nc4", classic, back)):
        copied = tool("nccopy", "-k", kind, source, target)
        check(copied.returncode == 0, f"nccopy -k {kind}: exit {copied.returncode}: {copied.stderr[-300:]}")
    if os.path.exists(back):
        with xr.open_dataset(path, engine="netcdf4") as a, xr.open_dataset(classic, engine="netcdf4") as b, \
                xr.open_dataset(back, engine="h5netcdf") as c:
            check(a.identical(b), "netCDF-4 classic copy: identical data and attributes in xarray")
            check(a.identical(c), "copied back to netCDF-4: identical")
            check(b.attrs.get("sweep") and json.loads(b.attrs["sweep"]) == ref["sweep"], "classic copy keeps the sweep")


def octave(path, ref):
    script = (f"pkg load netcdf; f = '{path}';"
              "v = ncread(f, 'final_test_acc'); printf('size %s\\n', num2str(size(v)));"
              "printf('sum %.17g\\n', sum(double(v(:))));"
              "t = ncread(f, 'test_acc_step_99'); printf('missing %d\\n', sum(isnan(t(:))));"
              "w = ncread(f, 'weight_decay'); printf('weight_decay %s\\n', sprintf('%.17g ', w));"
              "printf('flags %s\\n', ncreadatt(f, 'phase', 'flag_meanings'));"
              "printf('sweep %s\\n', strrep(ncreadatt(f, '/', 'sweep'), char(10), ' '));")
    result = tool("octave", "--no-gui", "--quiet", "--eval", script)
    check(result.returncode == 0, f"octave: exit {result.returncode}: {result.stderr[-300:]}")
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
    compare("octave", lines, ref, reversed_dims=True)


def r_ncdf4(path, ref):
    script = (f'library(ncdf4); nc <- nc_open("{path}");'
              'v <- ncvar_get(nc, "final_test_acc"); cat("size", dim(v), "\\n");'
              'cat(sprintf("sum %.17g\\n", sum(v)));'
              't <- ncvar_get(nc, "test_acc_step_99"); cat("missing", sum(is.na(t)), "\\n");'
              'w <- ncvar_get(nc, "weight_decay"); cat("weight_decay", sprintf("%.17g", w), "\\n");'
              'cat("flags", ncatt_get(nc, "phase", "flag_meanings")$value, "\\n");'
              'cat("sweep", gsub("\\n", " ", ncatt_get(nc, 0, "sweep")$value), "\\n"); nc_close(nc)')
    result = tool("Rscript", "-e", script)
    check(result.returncode == 0, f"R: exit {result.returncode}: {result.stderr[-300:]}")
    lines = dict(line.strip().split(" ", 1) for line in result.stdout.splitlines() if " " in line.strip())
    compare("R ncdf4", lines, ref, reversed_dims=True)


def compare(client, lines, ref, reversed_dims):
    """The client's printout (key -> text) against h5py's values."""
    shape = [int(n) for n in lines.get("size", "").split()]
    expected = list(reversed(ref["shape"])) if reversed_dims else list(ref["shape"])
    check(shape == expected, f"{client}: final_test_acc has shape {shape}, expected {expected} (column-major)")
    total = float(lines.get("sum", "nan"))
    check(abs(total - ref["final_test_acc"].sum()) <= 1e-9 * max(1.0, abs(total)),
          f"{client}: final_test_acc sums to {total}, h5py {ref['final_test_acc'].sum()}")
    check(int(lines.get("missing", "-1")) == ref["never_99"],
          f"{client}: {lines.get('missing')} missing test_acc_step_99 (never reached), h5py has {ref['never_99']} -1s")
    decays = [float(x) for x in lines.get("weight_decay", "").split()]
    check(decays == ref["weight_decay"], f"{client}: weight_decay coordinate {decays}")
    check(lines.get("flags", "").strip() == ref["flag_meanings"], f"{client}: flag_meanings {lines.get('flags')!r}")
    try:
        sweep = json.loads(lines.get("sweep", ""))
    except ValueError:
        sweep = None
    check(sweep == ref["sweep"], f"{client}: the sweep attribute is the sweep's JSON")


def running_sweep_readers():
    """Open the output of a running sweep in each reader, with default settings."""
    out = os.path.join(WORKDIR, "running.h5")
    process = subprocess.Popen([GROKSWEEP, "run", SLOW, "-o", out, "--ranks", "2", "--quiet"],
                               env=dict(CLIENT_ENV, GROKSWEEP_MPIEXEC=f"{MPIEXEC} --oversubscribe"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        check(wait_for_records(out, 2, SLOW), "the sweep journaled two points")

        def h5py_done():
            with h5py.File(out, "r") as f:
                return int((f["status"][...] == 1).sum())

        def xarray_done(engine):
            with xr.open_dataset(out, engine=engine) as ds:
                return int((ds["status"].values == 1).sum())

        def ncdump_done():
            result = tool("ncdump", "-v", "status", out)
            if result.returncode != 0:
                raise OSError(result.stderr.strip()[-200:])
            data = result.stdout.split("status =", 1)[1].split(";")[0]
            return sum(1 for x in data.replace(",", " ").split() if x == "1")

        # the file is flushed every 2 s, so it lags the journal by about that much
        for _ in range(60):
            try:
                if h5py_done() > 0:
                    break
            except (OSError, ValueError, KeyError):  # a flush half done
                pass
            time.sleep(0.1)

        readers = (("h5py", h5py_done), ("xarray h5netcdf", lambda: xarray_done("h5netcdf")),
                   ("xarray netcdf4", lambda: xarray_done("netcdf4")), ("ncdump", ncdump_done))
        for name, read in readers:
            done, errors = None, []
            for _ in range(3):  # a read can meet a flush half done: the next one sees the file whole
                try:
                    done = read()
                    break
                except (OSError, ValueError, KeyError, IndexError) as error:
                    errors.append(str(error)[:200])
                    time.sleep(0.3)
            check(done is not None and 0 < done < 16,
                  f"{name} reads the running sweep: {done} of 16 points done; errors {errors}")
            check(len(errors) <= 1, f"{name}: {len(errors)} failed reads before one worked: {errors}")
        check(process.poll() is None, "the sweep was still running while they read")
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=120)
    check(process.returncode in (0, 3), f"the sweep ends cleanly after the reads: exit {process.returncode}: "
                                        f"{stderr[-300:]}")


def inferred_in_ncdump(path):
    """A copy whose first point is inferred (status 4, its phase kept, the rest at fill) reads in
    ncdump: status 4 and missing values shown as _."""
    copy = os.path.join(WORKDIR, "inferred.h5")
    shutil.copyfile(path, copy)
    with h5py.File(copy, "r+") as f:
        first = (0,) * f["status"].ndim
        f["status"][first] = 4
        f["final_test_acc"][first] = np.nan
        f["steps_run"][first] = -1
    dump = tool("ncdump", "-v", "status,steps_run", copy)
    check(dump.returncode == 0, f"ncdump -v on an inferred point: exit {dump.returncode}: {dump.stderr[-300:]}")
    data = dump.stdout.split("data:", 1)[-1]
    status = data.split("status =", 1)[-1].split(";")[0].replace(",", " ").split()
    steps = data.split("steps_run =", 1)[-1].split(";")[0].replace(",", " ").split()
    check(status[:1] == ["4"] and steps[:1] == ["_"], f"ncdump: inferred status 4, steps_run missing: "
                                                     f"{status[:2]} {steps[:2]}")


def main():
    missing = [t for t in ("ncdump", "nccopy", "octave", "Rscript") if shutil.which(t) is None]
    if missing:
        print(f"output_clients: skipped: {', '.join(missing)} not installed (.ci/setup --tests installs them)")
        sys.exit(77)
    shutil.rmtree(WORKDIR, ignore_errors=True)
    os.makedirs(WORKDIR)
    path = os.path.join(WORKDIR, "tiny.h5")
    result = subprocess.run([GROKSWEEP, "run", TINY, "-o", path, "--quiet"], env=CLIENT_ENV, capture_output=True,
                            text=True)
    check(result.returncode == 0, f"the sweep runs: {result.stderr[-300:]}")
    ref = reference(path)
    check(ref["never_99"] > 0, "some points never reach 99% test accuracy (the missing values to check)")
    netcdf_tools(path, ref)
    inferred_in_ncdump(path)
    octave(path, ref)
    r_ncdf4(path, ref)
    running_sweep_readers()
    finish()


main()
