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
- A sweep that fails on bad input is neither requeued nor reported as done.

Exits 77 (skipped) when the Slurm or munge programs are missing or when not
root; .ci/setup --tests installs the packages.
"""
import ctypes
import os
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
    """munged + slurmctld + slurmd under BASE, reachable with SLURM_CONF=BASE/slurm.conf."""

    def __init__(self, base):
        self.base = base
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
        for d, mode in (("munge-key", 0o700), ("munge-run", 0o755), ("state", 0o755), ("spool", 0o755)):
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
SlurmctldPidFile={self.path('slurmctld.pid')}
SlurmdPidFile={self.path('slurmd.pid')}
SlurmctldLogFile={self.path('slurmctld.log')}
SlurmdLogFile={self.path('slurmd.log')}
NodeName={NODE} NodeAddr=127.0.0.1 CPUs={os.cpu_count()} RealMemory={max(memory_mb // 2, 100)} State=UNKNOWN
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

    def submit(self, sweep, out, log, launcher, ntasks=2):
        env = dict(self.env, GROKSWEEP=GROKSWEEP, GROKSWEEP_LAUNCHER=launcher)
        result = subprocess.run(["sbatch", "--parsable", f"--ntasks={ntasks}", f"--output={log}",
                                 f"--chdir={WORKDIR}", "--job-name=groksweep-test", SBATCH_SCRIPT, sweep, out],
                                env=env, capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"sbatch failed: {result.stderr}")
        job = result.stdout.strip().split(";")[0]
        self.jobs.append(job)
        return job

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








def wait_for_job(job, timeout=180, until=None):
    """Poll until the job is COMPLETED, FAILED, ... (or until(info) is true); return the last info and every
    state seen, in order."""
    states = []
    deadline = time.time() + timeout
    info = {}
    while time.time() < deadline:
        info = cluster.job(job)
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


def finishes(launcher, reference):
    what = f"tiny sweep, {launcher}"
    out = fresh(f"tiny_{launcher}.h5")
    log = out + ".log"
    started = time.time()
    job = cluster.submit(TINY, out, log, launcher)
    info, states = wait_for_job(job)
    print(f"{what}: job {job} {' -> '.join(states)} in {time.time() - started:.1f} s", flush=True)
    text = read(log)
    check(info.get("JobState") == "COMPLETED" and info.get("ExitCode") == "0:0",
          f"{what}: COMPLETED with exit code 0:0, got {info.get('JobState')} {info.get('ExitCode')}; log:\n{text}")
    check(info.get("Restarts") == "0" and "requeueing" not in text, f"{what}: a finished sweep is not requeued")
    check(f"job {job} restart 0," in text, f"{what}: the log names the job and the restart: {text!r}")
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


def bad_input_not_requeued():
    what = "bad sweep"
    sweep = path("bad_sweep.json")
    with open(sweep, "w") as f:
        f.write('{"grid": {"data_fraction": [0.3], "weight_decay": [-1], "init_scale": [1], "seed": 1}}')
    out = fresh("bad.h5")
    log = out + ".log"
    job = cluster.submit(sweep, out, log, "srun")
    info, states = wait_for_job(job)
    text = read(log)
    check(info.get("JobState") == "FAILED" and info.get("ExitCode") == "2:0",
          f"{what}: FAILED with exit code 2:0, got {info.get('JobState')} {info.get('ExitCode')}; log:\n{text}")
    check(info.get("Restarts") == "0" and "requeueing" not in text, f"{what}: not requeued")
    check("grid.weight_decay[0]" in text, f"{what}: the error is in the log: {text!r}")


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
try:
    cluster.start()
    print(f"cluster up in {time.time() - began:.1f} s", flush=True)
    tiny_reference, slow_reference = fresh("tiny_reference.h5"), fresh("slow_reference.h5")
    reference_run(TINY, tiny_reference)
    reference_run(SLOW, slow_reference)
    finishes("srun", tiny_reference)
    interrupted_and_requeued("srun", "USR1", slow_reference)
    bad_input_not_requeued()
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

finish(f" in {time.time() - began:.0f} s")
