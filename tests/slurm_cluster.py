"""slurm/groksweep.sbatch on a real one-node Slurm cluster on localhost.

usage: slurm_cluster.py GROKSWEEP SBATCH_SCRIPT MPIEXEC WORKDIR

Starts munged, slurmctld and slurmd (Debian's packages) under a private
temporary directory with private ports, submits the real batch script with
sbatch, and stops everything afterwards: jobs are cancelled first, then the
daemons are stopped by their own PIDs.

- A small sweep with 2 tasks completes (srun --mpi=pmix, then mpirun inside
  the allocation): every point done, `slurm_job_id` is the job's id, not
  requeued, results equal a run without Slurm.
- A slower sweep gets USR1 in its batch shell part-way (as from
  --signal=B:USR1@...; `scancel --signal=USR1 --batch`): the script forwards it,
  the sweep stops with status 3, the job requeues itself, the requeued job
  resumes without redoing finished points, and the final file equals an
  uninterrupted run's. The same with TERM (preemption, scancel).
- The normal submissions find the executable without GROKSWEEP: build/groksweep
  in the submit directory (srun), then groksweep on PATH (mpirun).
- The checks before launching: a GROKSWEEP that does not exist or is not
  executable, no executable anywhere (the places tried are named), a missing
  sweep file, an invalid sweep (negative weight decay: validate's message names
  the key), a missing output directory and one the job's user (nobody, with
  sbatch --uid) cannot write each fail at once with exit code 2 and their
  message, without launching the sweep and without requeueing.
- Hyperthreads, on a second cluster whose node Slurm is told has 6 cores of 2
  threads (SlurmdParameters=config_overrides; the hardware need not have them):
  2 ranks on 1 core get the --hint=nomultithread warning and still finish; with
  --hint=nomultithread or --cpus-per-task=2 (one rank per core) there is no
  warning, and neither on the first cluster's node (1 thread per core).

Exits 77 (skipped) when the Slurm or munge programs are missing or when not
root; .ci/setup --tests installs the packages.
"""
import ctypes
import grp
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77
PROGRAMS = ["munged", "mungekey", "slurmctld", "slurmd", "sbatch", "scontrol", "scancel", "sinfo", "squeue"]
NODE = socket.gethostname().split(".")[0]  # this host: mpirun starts the ranks itself

GROKSWEEP, SBATCH_SCRIPT, MPIEXEC, WORKDIR = [os.path.abspath(a) for a in sys.argv[1:5]]

def skip(reason):
    print(f"SKIPPED: {reason}", flush=True)
    sys.exit(SKIP)


missing = [p for p in PROGRAMS if not shutil.which(p, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")]
if missing:
    skip(f"{', '.join(missing)} not found; install the Debian packages slurmctld slurmd slurm-client munge "
         "(.ci/setup --tests does)")
if os.geteuid() != 0:
    skip("the private Slurm cluster runs its daemons as root; run this test as root")

import h5py  # noqa: E402  (after the skip checks, so that a skip needs nothing else)

import sweep_files  # noqa: E402
from harness import ENV, check, failed, finish  # noqa: E402
from sweep_files import SLOW, TINY, journal_records, same_points  # noqa: E402

# Daemons die with this process even if it is killed outright (PR_SET_PDEATHSIG).
_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    _libc.prctl(1, signal.SIGTERM)


def sbin(name):
    return shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")


def free_ports(count):
    sockets = []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


class Cluster:
    """munged + slurmctld + slurmd under BASE, reachable with SLURM_CONF=BASE/slurm.conf. Its TmpFS is BASE/tmp:
    the pmix plugin makes a directory per job step there, named by the job id, which in /tmp would collide with
    another cluster's (this test's second one, or another run's) and fail the step."""

    def __init__(self, base, node=f"CPUs={os.cpu_count()}", conf=""):
        self.base = base
        self.node = node  # the node's CPUs and topology, as slurm.conf gives them
        self.extra_conf = conf
        self.conf = os.path.join(base, "slurm.conf")
        self.daemons = []  # (name, Popen)
        self.jobs = []
        # a clean client environment: no Slurm variables of an enclosing job
        self.env = {k: v for k, v in ENV.items() if not k.startswith("SLURM_")}
        self.env["SLURM_CONF"] = self.conf

    def path(self, *parts):
        return os.path.join(self.base, *parts)

    def spawn(self, name, args):
        log = open(self.path(f"{name}.out"), "w")
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env=self.env, preexec_fn=_die_with_parent)
        log.close()
        self.daemons.append((name, process))
        return process

    def start(self):
        os.chmod(self.base, 0o755)
        for d, mode in (("munge-key", 0o700), ("munge-run", 0o755), ("state", 0o755), ("spool", 0o755),
                        ("tmp", 0o1777)):
            os.makedirs(self.path(d), mode=mode)
            os.chmod(self.path(d), mode)
        key, sock = self.path("munge-key", "munge.key"), self.path("munge-run", "munge.sock")
        subprocess.run([sbin("mungekey"), "-c", "-k", key], check=True, capture_output=True)
        self.spawn("munged", [sbin("munged"), "-F", "-S", sock, f"--key-file={key}",
                              f"--pid-file={self.path('munge-run', 'munged.pid')}",
                              f"--log-file={self.path('munged.log')}", f"--seed-file={self.path('munge-key', 'seed')}"])
        deadline = time.time() + 10
        while not os.path.exists(sock):
            if time.time() > deadline or self.daemons[0][1].poll() is not None:
                raise RuntimeError("munged did not start")
            time.sleep(0.05)

        ctld_port, slurmd_port = free_ports(2)
        memory_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
        with open(self.conf, "w") as f:
            f.write(f"""ClusterName=groksweeptest
SlurmctldHost={NODE}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={sock},cred_expire=10
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc={self.path('jobcomp.txt')}
SchedulerParameters=sched_interval=2,bf_interval=1
KillWait=5
MinJobAge=600
ReturnToService=2
MailProg=/bin/true
StateSaveLocation={self.path('state')}
SlurmdSpoolDir={self.path('spool')}
TmpFS={self.path('tmp')}
SlurmctldPidFile={self.path('slurmctld.pid')}
SlurmdPidFile={self.path('slurmd.pid')}
SlurmctldLogFile={self.path('slurmctld.log')}
SlurmdLogFile={self.path('slurmd.log')}
{self.extra_conf}
NodeName={NODE} NodeAddr=127.0.0.1 {self.node} RealMemory={max(memory_mb // 2, 100)} State=UNKNOWN
PartitionName=test Nodes={NODE} Default=YES MaxTime=INFINITE State=UP
""")
        self.spawn("slurmctld", [sbin("slurmctld"), "-D", "-f", self.conf])
        self.spawn("slurmd", [sbin("slurmd"), "-D", "-f", self.conf, "-N", NODE])
        deadline = time.time() + 30
        while time.time() < deadline:
            for name, process in self.daemons:
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with status {process.returncode}")
            state = self.client(["sinfo", "-h", "-n", NODE, "-o", "%t"], check=False).stdout.strip()
            if state == "idle":
                return
            time.sleep(0.1)
        raise RuntimeError(f"the node did not become idle (sinfo says {state!r})")

    def client(self, args, check=True):
        return subprocess.run(args, env=self.env, capture_output=True, text=True, timeout=60, check=check)

    def submit(self, sweep, out, log, launcher, ntasks=2, groksweep=GROKSWEEP, options=(), cwd=None, path=None):
        """sbatch the script from CWD (the submit directory) with GROKSWEEP (None: unset), PATH and OPTIONS."""
        env = dict(self.env, GROKSWEEP_LAUNCHER=launcher)
        if groksweep is not None:
            env["GROKSWEEP"] = groksweep
        if path is not None:
            env["PATH"] = path
        result = subprocess.run(["sbatch", "--parsable", f"--ntasks={ntasks}", f"--output={log}",
                                 f"--chdir={WORKDIR}", "--job-name=groksweep-test", *options, SBATCH_SCRIPT, sweep,
                                 out], env=env, capture_output=True, text=True, timeout=60, cwd=cwd)
        if result.returncode != 0:
            raise RuntimeError(f"sbatch failed: {result.stderr}")
        job = result.stdout.strip().split(";")[0]
        self.jobs.append(job)
        return job

    def job_node(self):
        """scontrol show node -o as a dict (CPUTot, ThreadsPerCore, ...)."""
        text = self.client(["scontrol", "show", "node", "-o", NODE], check=False).stdout
        return dict(re.findall(r"(\w+)=(\S*)", text))

    def job(self, job):
        """scontrol show job -o as a dict (JobState, Restarts, ExitCode, ...)."""
        text = self.client(["scontrol", "show", "job", "-o", job], check=False).stdout
        return dict(re.findall(r"(\w+)=(\S*)", text))

    def stop(self):
        for job in self.jobs:
            self.client(["scancel", "--full", job], check=False)
        deadline = time.time() + 30
        while self.jobs and time.time() < deadline:
            active = self.client(["squeue", "-h", "-t", "R,CG,S", "-o", "%i"], check=False)
            if active.returncode == 0 and not active.stdout.strip():
                break
            time.sleep(0.2)
        for name, process in reversed(self.daemons):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()

    def log_tails(self):
        for name in ("slurmctld.log", "slurmd.log", "munged.log", "slurmctld.out", "slurmd.out"):
            try:
                with open(self.path(name)) as f:
                    lines = f.readlines()[-25:]
            except OSError:
                continue
            print(f"--- {name} (last lines)", file=sys.stderr)
            sys.stderr.writelines(lines)


def path(name):
    return os.path.join(WORKDIR, name)


def fresh(name):
    return sweep_files.fresh(WORKDIR, name)


def read(file_name):
    try:
        with open(file_name) as f:
            return f.read()
    except OSError:
        return ""


def reference_run(sweep, out):
    """The same sweep without Slurm: mpirun with 2 ranks."""
    result = subprocess.run([MPIEXEC, "-n", "2", GROKSWEEP, "run", sweep, "-o", out, "--quiet"], env=cluster.env,
                            capture_output=True, text=True, timeout=600)
    if not check(result.returncode == 0, f"reference run of {os.path.basename(sweep)}: {result.stderr}"):
        raise RuntimeError("no reference")








def wait_for_job(job, timeout=180, until=None, on=None):
    """Poll until the job is COMPLETED, FAILED, ... (or until(info) is true); return the last info and every
    state seen, in order."""
    states = []
    deadline = time.time() + timeout
    info = {}
    while time.time() < deadline:
        info = (on or cluster).job(job)
        state = info.get("JobState", "?")
        if not states or states[-1] != state:
            states.append(state)
        if until is not None and until(info):
            return info, states
        if until is None and state in ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY",
                                       "BOOT_FAIL", "DEADLINE", "PREEMPTED"):
            return info, states
        time.sleep(0.1)
    check(False, f"job {job}: still {states[-1] if states else '?'} after {timeout} s (states {states})")
    return info, states


def check_output(out, job, what, reference):
    if not check(os.path.exists(out), f"{what}: {out} written"):
        return
    with h5py.File(out, "r") as f:
        status = f["status"][...]
        check((status >= 1).all(), f"{what}: every point done, {(status >= 1).sum()} of {status.size}")
        attr = f.attrs.get("slurm_job_id")
        attr = attr.decode() if isinstance(attr, bytes) else attr
        check(attr == job, f"{what}: slurm_job_id attribute {attr!r} is the job id {job!r}")
        check(int(f.attrs["mpi_ranks"]) == 2, f"{what}: 2 ranks, got {f.attrs['mpi_ranks']}")
    same_points(reference, out, f"{what} vs without Slurm")


def without_groksweep(search_path):
    """SEARCH_PATH less any directory that holds a groksweep."""
    return ":".join(d for d in search_path.split(":") if d and not os.path.exists(os.path.join(d, "groksweep")))


def finishes(launcher, reference):
    """GROKSWEEP unset: srun finds build/groksweep in the submit directory, mpirun groksweep on PATH."""
    what = f"tiny sweep, {launcher}"
    out = fresh(f"tiny_{launcher}.h5")
    log = out + ".log"
    search_path = without_groksweep(cluster.env.get("PATH", ""))
    if launcher == "srun":
        submit_dir = path("submit_dir")
        expected = os.path.join(submit_dir, "build", "groksweep")
    else:
        submit_dir = path("submit_dir_without_build")
        expected = os.path.join(path("bin"), "groksweep")
        search_path = f"{path('bin')}:{search_path}"
    os.makedirs(os.path.dirname(expected), exist_ok=True)
    os.makedirs(submit_dir, exist_ok=True)
    if os.path.lexists(expected):
        os.remove(expected)
    os.symlink(GROKSWEEP, expected)
    started = time.time()
    job = cluster.submit(TINY, out, log, launcher, groksweep=None, cwd=submit_dir, path=search_path)
    info, states = wait_for_job(job)
    print(f"{what}: job {job} {' -> '.join(states)} in {time.time() - started:.1f} s", flush=True)
    text = read(log)
    check(info.get("JobState") == "COMPLETED" and info.get("ExitCode") == "0:0",
          f"{what}: COMPLETED with exit code 0:0, got {info.get('JobState')} {info.get('ExitCode')}; log:\n{text}")
    check(info.get("Restarts") == "0" and "requeueing" not in text, f"{what}: a finished sweep is not requeued")
    check(f"job {job} restart 0," in text, f"{what}: the log names the job and the restart: {text!r}")
    check(f" {expected} run {TINY} -o {out}" in text,
          f"{what}: without GROKSWEEP the job runs {expected}: {text!r}")
    check("groksweep.sbatch: warning" not in text,
          f"{what}: no hyperthread warning on a node with 1 thread per core: {text!r}")
    check("groksweep run: wrote" in text, f"{what}: the sweep's summary is in the log")
    check_output(out, job, what, reference)


def interrupted_and_requeued(launcher, sig, reference):
    what = f"slow sweep, {launcher}, SIG{sig}"
    out = fresh(f"slow_{launcher}_{sig}.h5")
    log = out + ".log"
    started = time.time()
    job = cluster.submit(SLOW, out, log, launcher)
    info, states = wait_for_job(job, until=lambda i: journal_records(out, SLOW) >= 3
                                or i.get("JobState") not in ("PENDING", "RUNNING"))
    if not check(info.get("JobState") == "RUNNING" and journal_records(out, SLOW) >= 3,
                 f"{what}: running with 3 points journaled, got {info.get('JobState')}; log:\n{read(log)}"):
        return
    signalled = time.time()
    cluster.client(["scancel", f"--signal={sig}", "--batch", job])
    info, more = wait_for_job(job)
    states += more[1:] if more and more[0] == states[-1] else more
    took = time.time() - started
    print(f"{what}: job {job} {' -> '.join(states)} in {took:.1f} s (signal after {signalled - started:.1f} s)",
          flush=True)
    text = read(log)
    check(info.get("JobState") == "COMPLETED" and info.get("ExitCode") == "0:0",
          f"{what}: COMPLETED with exit code 0:0, got {info.get('JobState')} {info.get('ExitCode')}; log:\n{text}")
    check(info.get("Restarts") == "1", f"{what}: restarted once, Restarts={info.get('Restarts')}; log:\n{text}")
    running = [i for i, s in enumerate(states) if s == "RUNNING"]
    check(len(running) >= 2 and any(s in ("PENDING", "REQUEUED", "REQUEUE_HOLD") for s in states[running[0]:]),
          f"{what}: RUNNING, back in the queue, RUNNING again: {states}")
    check(f"caught SIG{sig}" in text, f"{what}: the batch shell caught SIG{sig}: {text!r}")
    done = re.search(r"interrupted with (\d+) of (\d+) points done", text)
    check(done is not None and 0 < int(done.group(1)) < int(done.group(2)),
          f"{what}: the sweep stopped part-way: {done.group(0) if done else text!r}")
    check("exited with status 3" in text and f"requeueing job {job}" in text, f"{what}: requeued on status 3")
    check(f"job {job} restart 0," in text and f"job {job} restart 1," in text,
          f"{what}: the log shows restart 0 and restart 1: {text!r}")
    check("groksweep run: wrote" in text, f"{what}: the requeued job finished the sweep")
    # the journal is append-only: one record per point means no finished point ran twice
    check(journal_records(out, SLOW) == 16, f"{what}: {journal_records(out, SLOW)} journal records for 16 points")
    check_output(out, job, what, reference)


def seconds(duration):
    """scontrol's RunTime, [D-]HH:MM:SS, in seconds."""
    days, _, clock = duration.rpartition("-")
    h, m, sec = (int(x) for x in clock.split(":"))
    return int(days or 0) * 86400 + h * 3600 + m * 60 + sec


def as_nobody(*paths_and_modes):
    """Whether the user nobody can access each (path, os.R_OK/W_OK/X_OK)."""
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        return False
    flag = {os.R_OK: "r", os.W_OK: "w", os.X_OK: "x"}
    tests = " && ".join(f"test -{flag[mode]} '{p}'" for p, mode in paths_and_modes)
    result = subprocess.run(["sh", "-c", tests], user=nobody.pw_uid, group=nobody.pw_gid, capture_output=True)
    return result.returncode == 0


def refusals():
    """Each check before launching fails the job at once: exit code 2, its message in the log, no sweep, no
    requeue. The jobs are submitted together (one task each) and then waited for."""
    bad_sweep = path("bad_sweep.json")
    with open(bad_sweep, "w") as f:
        f.write('{"grid": {"data_fraction": [0.3], "weight_decay": [-1], "init_scale": [1], "seed": 1}}')
    missing_exe = path("no_such_dir/groksweep")
    missing_sweep = path("no_such_sweep.json")
    missing_dir = path("no_such_output_dir")
    shutil.rmtree(missing_dir, ignore_errors=True)
    empty_dir = path("submit_dir_empty")
    os.makedirs(empty_dir, exist_ok=True)
    no_exe_path = without_groksweep(cluster.env.get("PATH", ""))
    cases = [  # what, sweep, out name, expected message parts, submit keywords
        ("missing GROKSWEEP", TINY, "refused_exe.h5",
         [f"GROKSWEEP={missing_exe}: no such file", "set GROKSWEEP to the groksweep executable"],
         dict(groksweep=missing_exe)),
        ("GROKSWEEP not executable", TINY, "refused_not_exe.h5", [f"GROKSWEEP={TINY}: not an executable file"],
         dict(groksweep=TINY)),
        ("no executable anywhere", TINY, "refused_nowhere.h5",
         ["no groksweep executable: tried GROKSWEEP (unset), "
          f"{empty_dir}/build/groksweep (missing) and groksweep on PATH (not found)"],
         dict(groksweep=None, cwd=empty_dir, path=no_exe_path)),
        ("missing sweep file", missing_sweep, "refused_sweep.h5", [f"sweep file {missing_sweep}: no such file"], {}),
        ("invalid sweep", bad_sweep, "refused_invalid.h5",
         [f"groksweep validate {bad_sweep} failed (exit 2)", "grid.weight_decay[0]", "must be a number >= 0"], {}),
        ("missing output directory", TINY, None,
         [f"output directory {missing_dir} of {missing_dir}/out.h5 does not exist", f"mkdir -p {missing_dir}"], {}),
    ]
    # An output directory the job's user cannot write: run the job as nobody, which can read the
    # sweep and run groksweep, with its log in a directory it can write.
    readonly_dir, nobody_logs = path("readonly_output_dir"), path("nobody_logs")
    for d, mode in ((readonly_dir, 0o755), (nobody_logs, 0o777)):
        os.makedirs(d, exist_ok=True)
        os.chmod(d, mode)
    if as_nobody((GROKSWEEP, os.X_OK), (TINY, os.R_OK), (nobody_logs, os.W_OK), (WORKDIR, os.X_OK)):
        cases.append(("unwritable output directory", TINY, None,
                      [f"output directory {readonly_dir} of {readonly_dir}/out.h5 is not writable for nobody"],
                      dict(options=["--uid=nobody", "--gid=" + grp.getgrgid(pwd.getpwnam("nobody").pw_gid).gr_name],
                           log_dir=nobody_logs, out_dir=readonly_dir)))
    else:
        print("not checked: an unwritable output directory (the user nobody is missing or cannot read the sweep "
              "and run groksweep)", flush=True)
    jobs = []
    for what, sweep, name, expected, keywords in cases:
        out_dir = keywords.pop("out_dir", missing_dir if name is None else WORKDIR)
        out = os.path.join(out_dir, name or "out.h5")
        if name is not None:
            fresh(name)
        log = os.path.join(keywords.pop("log_dir", WORKDIR), (name or what.replace(" ", "_") + ".h5") + ".log")
        if os.path.exists(log):
            os.remove(log)
        jobs.append((what, out, log, expected, cluster.submit(sweep, out, log, "srun", ntasks=1, **keywords)))
    started = time.time()
    for what, out, log, expected, job in jobs:
        info, states = wait_for_job(job, timeout=60)
        text = read(log)
        print(f"{what}: job {job} {' -> '.join(states)} after {time.time() - started:.1f} s, RunTime "
              f"{info.get('RunTime')}", flush=True)
        check(info.get("JobState") == "FAILED" and info.get("ExitCode") == "2:0",
              f"{what}: FAILED with exit code 2:0, got {info.get('JobState')} {info.get('ExitCode')}; log:\n{text}")
        check(info.get("Restarts") == "0" and "requeueing" not in text, f"{what}: not requeued")
        lines = [line for line in text.splitlines() if line.startswith("groksweep.sbatch: ")]
        check(len(lines) == 2 and lines[0].startswith(f"groksweep.sbatch: job {job} restart 0,")
              and all(part in lines[1] for part in expected),
              f"{what}: the job line, then one line with {expected}: {text!r}")
        check("srun --mpi=pmix" not in text and "exited with status" not in text and "groksweep run" not in text,
              f"{what}: the sweep was not launched: {text!r}")
        check(seconds(info.get("RunTime", "9:99:99")) <= 5, f"{what}: failed at once, RunTime {info.get('RunTime')}")
        check(not os.path.exists(out), f"{what}: no {out} written")


def hyperthreads(reference):
    """On a node that Slurm counts as 6 cores of 2 hardware threads: 2 ranks on one core get the warning (and
    finish); --hint=nomultithread or --cpus-per-task=2 give each rank a core and no warning. The node has room
    for the three jobs at once (each runs a sub-second sweep, on whatever cores the machine really has)."""
    started = time.time()
    ht = Cluster(tempfile.mkdtemp(prefix="groksweep-slurm-ht-"),
                 node="CPUs=12 Sockets=1 CoresPerSocket=6 ThreadsPerCore=2",
                 conf="SlurmdParameters=config_overrides")
    try:
        ht.start()
        print(f"hyperthreads: the second cluster up in {time.time() - started:.1f} s", flush=True)
        node = ht.job_node()
        if not check(node.get("ThreadsPerCore") == "2" and node.get("CPUTot") == "12",
                     f"hyperthreads: the node has 2 threads per core and 12 CPUs, got {node}"):
            return
        jobs = []
        for what, options, warned in (("2 ranks, default", [], True),
                                      ("2 ranks, --hint=nomultithread", ["--hint=nomultithread"], False),
                                      ("2 ranks, --cpus-per-task=2", ["--cpus-per-task=2"], False)):
            name = "ht_" + re.sub(r"\W+", "_", what).strip("_") + ".h5"
            out = fresh(name)
            jobs.append((what, out, warned, ht.submit(TINY, out, out + ".log", "srun", options=options)))
        for what, out, warned, job in jobs:
            info, states = wait_for_job(job, on=ht)
            text = read(out + ".log")
            print(f"hyperthreads, {what}: job {job} {' -> '.join(states)}, NumCPUs {info.get('NumCPUs')}", flush=True)
            check(info.get("JobState") == "COMPLETED" and info.get("ExitCode") == "0:0",
                  f"hyperthreads, {what}: COMPLETED, got {info.get('JobState')} {info.get('ExitCode')}; log:\n{text}")
            warnings = [line for line in text.splitlines() if line.startswith("groksweep.sbatch: warning")]
            if warned:
                check(len(warnings) == 1 and f"the 2 ranks on {NODE} share 1 physical core(s) (2 hardware threads "
                      "per core)" in warnings[0] and "--hint=nomultithread" in warnings[0],
                      f"hyperthreads, {what}: one warning recommending --hint=nomultithread: {text!r}")
            else:
                check(not warnings, f"hyperthreads, {what}: no warning: {text!r}")
            check("groksweep run: wrote" in text, f"hyperthreads, {what}: the sweep ran: {text!r}")
            with h5py.File(out, "r") as f:
                check((f["status"][...] >= 1).all(), f"hyperthreads, {what}: every point done")
            same_points(reference, out, f"hyperthreads, {what} vs without Slurm")
        print(f"hyperthreads: {time.time() - started:.1f} s", flush=True)
    finally:
        ht.stop()
        cleanup_strays()
        if failed():
            ht.log_tails()
        shutil.rmtree(ht.base, ignore_errors=True)


def cleanup_strays():
    """Kill any process still running our sweeps (a safety net: they would be ours, from WORKDIR)."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().decode(errors="replace")
        except OSError:
            continue
        if GROKSWEEP in cmdline and WORKDIR in cmdline:
            print(f"killing stray process {pid}: {cmdline!r}", file=sys.stderr)
            try:
                os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass


def on_signal(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


signal.signal(signal.SIGTERM, on_signal)
os.makedirs(WORKDIR, exist_ok=True)
base = tempfile.mkdtemp(prefix="groksweep-slurm-")
cluster = Cluster(base)
began = time.time()
tiny_reference = None
try:
    cluster.start()
    print(f"cluster up in {time.time() - began:.1f} s", flush=True)
    tiny_reference, slow_reference = fresh("tiny_reference.h5"), fresh("slow_reference.h5")
    reference_run(TINY, tiny_reference)
    reference_run(SLOW, slow_reference)
    finishes("srun", tiny_reference)
    interrupted_and_requeued("srun", "USR1", slow_reference)
    refusals()
    finishes("mpirun", tiny_reference)
    interrupted_and_requeued("mpirun", "USR1", slow_reference)
    interrupted_and_requeued("srun", "TERM", slow_reference)
except Exception as error:  # noqa: BLE001  (any error is a failure, after teardown)
    check(False, f"{type(error).__name__}: {error}")
finally:
    cluster.stop()
    cleanup_strays()
    if failed():
        cluster.log_tails()
    shutil.rmtree(base, ignore_errors=True)
if tiny_reference and os.path.exists(tiny_reference):
    try:
        hyperthreads(tiny_reference)
    except Exception as error:  # noqa: BLE001
        check(False, f"hyperthreads: {type(error).__name__}: {error}")

finish(f" in {time.time() - began:.0f} s")
