"""The sweep's HDF5 output file, as the usual readers see it: h5py, xarray
with the h5netcdf and netcdf4 engines, and pandas through xarray.

usage: /usr/bin/python3 output_readers.py FILE.h5

FILE.h5 is the file tests/test_output.c writes; the expected values below
mirror what that test writes (keep the two in step). Prints
"N passed, N failed" and exits 1 on any failure.
"""

import json
import os
import sys
import traceback
import warnings

import h5py
import numpy as np
import xarray as xr

AXES = ["data_fraction", "weight_decay", "init_scale", "seed", "bias", "activation"]
SHAPE = (3, 2, 2, 2, 2, 2)
COORDS = {
    "data_fraction": [0.2, 0.3, 0.5],
    "weight_decay": [0.1, 1.0],
    "init_scale": [1.0, 2.0],
    "seed": [0, 1],
    "bias": [0, 1],
    "activation": ["relu", "gelu"],
}
EVAL_STEPS = [0, 10, 20, 30]
CROSSINGS = [f"{split}_acc_step_{level}" for split in ("train", "test") for level in (50, 90, 95, 99)]
FINALS = ["final_train_loss", "final_test_loss", "final_train_acc", "final_test_acc", "final_weight_norm"]
DELAYS = [f"grokking_delay_{level}" for level in (50, 90, 95, 99)]
POINT_VARS = ["status", "phase"] + CROSSINGS + FINALS + ["steps_run", "wall_seconds"] + DELAYS
CURVES = ["curve_train_loss", "curve_test_loss", "curve_train_acc", "curve_test_acc", "curve_weight_norm"]
P_DONE, P_NEVER, P_DIVERGED, P_INFERRED, P_FAILED = 0, 5, 37, 40, 63
UNWRITTEN = [1, 36, 64, 80, 95]

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {what}", file=sys.stderr)


def at(point):
    """The index tuple of a point (row-major, last axis fastest)."""
    return tuple(int(i) for i in np.unravel_index(point, SHAPE))


def curve_value(point, series, k):
    return point * 100 + series * 10 + k + 0.5


def check_h5py(path):
    with h5py.File(path, "r") as f:
        sweep = json.loads(f.attrs["sweep"])
        check(sweep["grid"]["seed"] == 2, "h5py: json.loads(attrs['sweep'])")
        # fixed-length text: h5py gives bytes (what Octave and netCDF classic need in the file)
        check(f.attrs["format"] == b"groksweep-sweep", f"h5py: format {f.attrs['format']!r}")
        check(f.attrs["created"].decode() == "2026-11-23T09:30:05Z", "h5py: text attributes decode to str")
        check(int(f.attrs["format_version"]) == 2, "h5py: format_version")
        for name in ("format", "created", "sweep", "Conventions", "title", "history"):
            kind = h5py.h5a.open(f.id, name.encode()).get_type()
            check(isinstance(kind, h5py.h5t.TypeStringID) and not kind.is_variable_str(),
                  f"h5py: attribute {name} is fixed-length text")
        for var in POINT_VARS + CURVES:
            names = [f[var].dims[i].keys() for i in range(len(f[var].dims))]
            expected = [[a] for a in AXES] + ([["eval_step"]] if var in CURVES else [])
            check(names == expected, f"h5py: {var} dims {names}")
        check(f["status"].dtype == np.int8 and f["phase"].dtype == np.int8, "h5py: status and phase are int8")
        check(f["seed"].dtype == np.int32 and f["data_fraction"].dtype == np.float64, "h5py: coordinate dtypes")
        check([s.decode() for s in f["activation"][...]] == COORDS["activation"], "h5py: string coordinate")
        check(f["status"][at(P_DONE)] == 1 and f["status"][at(P_FAILED)] == 3, "h5py: status values")
        check(f["status"][at(UNWRITTEN[0])] == 0, "h5py: unwritten status is 0")
        check(f["test_acc_step_99"][at(P_DONE)] == 610, "h5py: crossing step")
        check(f["test_acc_step_99"][at(P_NEVER)] == -1, "h5py: never reached is -1")
        check(f["test_acc_step_99"][at(UNWRITTEN[0])] == -1, "h5py: not run is -1 too (status tells them apart)")
        check(list(f["status"].attrs["flag_values"]) == [0, 1, 2, 3, 4], "h5py: status flag_values")
        check(f["status"].attrs["flag_meanings"] == b"not_run done diverged failed inferred",
              "h5py: status flag_meanings name inferred")
        check(f["status"][at(P_INFERRED)] == 4 and f["phase"][at(P_INFERRED)] == 1, "h5py: inferred status and phase")
        check(f["steps_run"][at(P_INFERRED)] == -1 and np.isnan(f["final_test_acc"][at(P_INFERRED)]) and
              np.isnan(f["curve_test_acc"][at(P_INFERRED)]).all(), "h5py: an inferred point's values are fill")
        check("_FillValue" not in f["status"].attrs, "h5py: no _FillValue on status")


def check_dataset(ds, engine):
    """What every xarray engine must show."""
    check(list(ds.dims) == AXES + ["eval_step"], f"{engine}: dimensions {list(ds.dims)}")
    check(not any(d.startswith("phony_dim") for d in ds.dims), f"{engine}: no phony dimensions")
    for name, values in COORDS.items():
        check(name in ds.coords and list(ds[name].values) == values, f"{engine}: coordinate {name}")
    check(list(ds["eval_step"].values) == EVAL_STEPS, f"{engine}: eval_step values")
    check(ds["seed"].dtype == np.int32 and ds["eval_step"].dtype == np.int32, f"{engine}: integer coordinates")
    for var in POINT_VARS:
        check(ds[var].dims == tuple(AXES), f"{engine}: {var} dims {ds[var].dims}")
    for var in CURVES:
        check(ds[var].dims == tuple(AXES) + ("eval_step",), f"{engine}: {var} dims {ds[var].dims}")
        check(ds[var].dtype == np.float32, f"{engine}: {var} dtype {ds[var].dtype}")

    # Categories stay integers; 0 = not run is a value, not missing.
    for var in ("status", "phase"):
        check(ds[var].dtype == np.int8, f"{engine}: {var} dtype {ds[var].dtype}")
    status = ds["status"].values
    check(status[at(P_DONE)] == 1 and status[at(P_DIVERGED)] == 2 and status[at(P_FAILED)] == 3,
          f"{engine}: status values")
    check(all(status[at(p)] == 0 for p in UNWRITTEN), f"{engine}: unwritten status 0")
    check(status[at(P_INFERRED)] == 4, f"{engine}: inferred status 4")
    check((status == 0).sum() == np.prod(SHAPE) - 5, f"{engine}: all but five points not run")
    check(ds["phase"].values[at(P_DONE)] == 2 and ds["phase"].values[at(P_NEVER)] == 3, f"{engine}: phase")
    check(ds["status"].attrs.get("flag_meanings") == "not_run done diverged failed inferred",
          f"{engine}: flag_meanings")
    statuses = np.array(ds["status"].attrs["flag_meanings"].split())[status]
    check(statuses[at(P_INFERRED)] == "inferred" and statuses[at(P_DONE)] == "done",
          f"{engine}: status names from flag_meanings")
    check(list(ds["phase"].attrs.get("flag_values", [])) == [0, 1, 2, 3, 4], f"{engine}: phase flag_values")

    # Crossing steps: never reached and not run are both missing (NaN), so means count reached points only.
    step = ds["test_acc_step_50"].values
    check(step[at(P_DONE)] == 450, f"{engine}: crossing step {step[at(P_DONE)]}")
    check(np.isnan(step[at(P_NEVER)]), f"{engine}: never reached is missing, got {step[at(P_NEVER)]}")
    check(all(np.isnan(step[at(p)]) for p in UNWRITTEN), f"{engine}: not run is missing")
    reached = [step[at(p)] for p in range(int(np.prod(SHAPE))) if not np.isnan(step[at(p)])]
    check(float(ds["test_acc_step_50"].mean()) == np.mean(reached) and len(reached) == 1,
          f"{engine}: the mean crossing is over the points that reached it: {float(ds['test_acc_step_50'].mean())}")
    check(ds["test_acc_step_50"].attrs.get("comment") ==
          "missing (-1): never reached, or the point was not run (status says which)", f"{engine}: crossing comment")
    check(ds["test_acc_step_50"].encoding.get("_FillValue") == -1, f"{engine}: crossing _FillValue in encoding")
    check(ds["train_acc_step_90"].values[at(P_DONE)] == 10, f"{engine}: train crossing")
    delay = ds["grokking_delay_90"].values
    check(delay[at(P_DONE)] == 540 - 10 and np.isnan(delay[at(P_NEVER)]) and np.isnan(delay[at(UNWRITTEN[0])]),
          f"{engine}: grokking_delay_90 {delay[at(P_DONE)]}, {delay[at(P_NEVER)]}")

    # Phase and status names in one line.
    names = np.array(ds["phase"].attrs["flag_meanings"].split())[ds["phase"].values]
    check(names[at(P_DONE)] == "grokking" and names[at(P_NEVER)] == "memorization" and names[at(UNWRITTEN[0])] == "none",
          f"{engine}: phase names from flag_meanings")

    # Floats: NaN where not run, values where run; NaN losses of a diverged run stay NaN.
    check(ds["final_test_acc"].values[at(P_DONE)] == np.float32(0.995), f"{engine}: final_test_acc")
    check(np.isnan(ds["final_train_loss"].values[at(P_DIVERGED)]), f"{engine}: diverged loss NaN")
    for var in FINALS + ["wall_seconds"]:
        values = ds[var].values
        check(all(np.isnan(values[at(p)]) for p in UNWRITTEN), f"{engine}: {var} NaN where not run")
    check(ds["wall_seconds"].dtype == np.float32 and ds["wall_seconds"].values[at(P_DONE)] == 1.5,
          f"{engine}: wall_seconds stays float32 seconds ({ds['wall_seconds'].dtype})")
    check(ds["steps_run"].values[at(P_DONE)] == 650 and np.isnan(ds["steps_run"].values[at(UNWRITTEN[0])]),
          f"{engine}: steps_run")
    check(ds["final_test_acc"].attrs.get("units") == "1" and ds["steps_run"].attrs.get("units") == "1",
          f"{engine}: units")
    check(all("long_name" in ds[v].attrs for v in POINT_VARS + CURVES + list(COORDS) + ["eval_step"]),
          f"{engine}: every variable has a long_name")

    # Curves.
    for s, var in enumerate(CURVES):
        got = ds[var].values[at(P_DONE)]
        check(list(got) == [curve_value(P_DONE, s, k) for k in range(4)], f"{engine}: {var} at the done point")
    diverged = ds["curve_train_loss"].values[at(P_DIVERGED)]
    check(diverged[1] == curve_value(P_DIVERGED, 0, 1) and np.isnan(diverged[2:]).all(),
          f"{engine}: diverged curve {diverged}")
    check(all(np.isnan(ds["curve_test_acc"].values[at(p)]).all() for p in UNWRITTEN), f"{engine}: unwritten curves")
    # Inferred: the phase of its cell, every numeric variable missing as for a point not run.
    check(ds["phase"].values[at(P_INFERRED)] == 1, f"{engine}: inferred phase")
    check(all(np.isnan(ds[v].values[at(P_INFERRED)]) for v in CROSSINGS + FINALS + DELAYS + ["steps_run",
                                                                                        "wall_seconds"]),
          f"{engine}: an inferred point's numeric variables are missing")
    check(all(np.isnan(ds[v].values[at(P_INFERRED)]).all() for v in CURVES), f"{engine}: an inferred point has no curves")

    # Selection by coordinate values.
    point = ds.sel(data_fraction=0.2, weight_decay=0.1, init_scale=1.0, seed=0, bias=0, activation="relu")
    check(int(point["status"]) == 1 and float(point["curve_test_loss"].sel(eval_step=20)) == curve_value(0, 1, 2),
          f"{engine}: .sel by coordinates")

    # Root attributes.
    check(json.loads(ds.attrs["sweep"])["task"]["p"] == 59, f"{engine}: sweep attribute is JSON")
    check(ds.attrs.get("format") == "groksweep-sweep" and int(ds.attrs.get("format_version", 0)) == 2,
          f"{engine}: format attributes")
    check(ds.attrs.get("Conventions") == "CF-1.8" and ds.attrs.get("source") == "groksweep 0.1.0" and
          ds.attrs.get("history", "").endswith("groksweep run sweep.json -o 'out file.h5'") and
          ds.attrs.get("title", "").startswith("grokking phase diagram of x+y mod 59"), f"{engine}: CF attributes")
    check(ds.attrs.get("slurm_job_id") == "4242" and int(ds.attrs.get("mpi_ranks", 0)) == 3,
          f"{engine}: provenance attributes")


def check_dataframe(ds):
    frame = ds[POINT_VARS].to_dataframe()
    check(list(frame.index.names) == AXES, f"pandas: index names {list(frame.index.names)}")
    check(len(frame) == np.prod(SHAPE), f"pandas: {len(frame)} rows")
    check(list(frame.columns) == POINT_VARS, "pandas: one column per variable")
    row = frame.loc[(0.3, 0.1, 1.0, 1, 0, "gelu")]  # point 37, the diverged run
    check(row["status"] == 2 and row["steps_run"] == 17, f"pandas: diverged row\n{row}")
    check(frame["status"].dtype == np.int8, f"pandas: status dtype {frame['status'].dtype}")
    done = frame[frame["status"] == 1]
    check(len(done) == 2, f"pandas: {len(done)} done points")


def section(name, fn, *args):
    try:
        fn(*args)
    except Exception:
        check(False, f"{name} raised:\n{traceback.format_exc()}")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: output_readers.py FILE.h5")
    path = sys.argv[1]
    if not os.path.exists(path):
        print(f"FAIL: {path} does not exist (tests/test_output.c writes it)", file=sys.stderr)
        print("0 passed, 1 failed")
        sys.exit(1)
    warnings.simplefilter("error", FutureWarning)  # e.g. xarray deciding to decode units "seconds" as time

    section("h5py", check_h5py, path)

    def h5netcdf():
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            check_dataset(ds, "h5netcdf")
            check_dataframe(ds)

    section("xarray h5netcdf", h5netcdf)

    try:
        import netCDF4  # noqa: F401
    except ImportError:
        print("netCDF4 is not installed: netcdf4 engine not checked", file=sys.stderr)
    else:
        def netcdf4():
            with xr.open_dataset(path, engine="netcdf4") as ds:
                check_dataset(ds, "netcdf4")

        section("xarray netcdf4", netcdf4)

    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
