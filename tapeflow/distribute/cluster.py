"""Who is in a multi-worker job and who this process is: `tf.train.ClusterSpec` and the
cluster resolvers (`TFConfigClusterResolver` reads the `TF_CONFIG` environment variable,
`SimpleClusterResolver` takes them as arguments).

`TF_CONFIG` is TF's JSON: `{"cluster": {"chief": [...], "worker": ["host:port", ...]},
"task": {"type": "worker", "index": 0}}`. `ranked_tasks` orders the tasks that join the
collective (the chief first, then the workers: with no chief, worker 0 is the chief), which
gives each process its torch.distributed rank.
"""
import json
import os


class ClusterSpec:
    """The jobs of a cluster, each a list of `host:port` task addresses (or a dict from task
    index to address)."""

    def __init__(self, cluster):
        if isinstance(cluster, ClusterSpec):
            cluster = cluster.as_dict()
        if not isinstance(cluster, dict):
            raise TypeError("`cluster` must be a dictionary mapping one or more job names to "
                            "(i) a list of network addresses, or (ii) a dictionary mapping "
                            "integer task indices to network addresses.")
        self._jobs = {}
        for job, tasks in cluster.items():
            if isinstance(tasks, (list, tuple)):
                tasks = dict(enumerate(tasks))
            elif isinstance(tasks, dict):
                tasks = {int(i): a for i, a in tasks.items()}
            else:
                raise TypeError(f"The tasks for job {job!r} must be a list or a dictionary "
                                f"from indices to addresses. Received: {tasks!r}")
            self._jobs[job] = tasks

    def as_dict(self):
        out = {}
        for job, tasks in self._jobs.items():
            indices = sorted(tasks)
            out[job] = [tasks[i] for i in indices] if indices == list(range(len(indices))) \
                else dict(tasks)
        return out

    @property
    def jobs(self):
        return list(self._jobs)

    def num_tasks(self, job_name):
        return len(self._job(job_name))

    def task_indices(self, job_name):
        return sorted(self._job(job_name))

    def task_address(self, job_name, task_index):
        tasks = self._job(job_name)
        if task_index not in tasks:
            raise ValueError(f"No task with index {task_index!r} in job {job_name!r}")
        return tasks[task_index]

    def job_tasks(self, job_name):
        tasks = self._job(job_name)
        return [tasks.get(i) for i in range(max(tasks) + 1)] if tasks else []

    def _job(self, job_name):
        if job_name not in self._jobs:
            raise ValueError(f"No such job in cluster: {job_name!r}")
        return self._jobs[job_name]

    def __bool__(self):
        return bool(self._jobs)

    def __eq__(self, other):
        return isinstance(other, ClusterSpec) and self.as_dict() == other.as_dict()

    def __repr__(self):
        return f"ClusterSpec({dict(sorted(self.as_dict().items()))!r})"


class ClusterResolver:
    """The base of the cluster resolvers (`tf.distribute.cluster_resolver.ClusterResolver`)."""

    task_type = None
    task_id = None
    rpc_layer = None
    environment = None

    def cluster_spec(self):
        raise NotImplementedError

    def master(self, task_type=None, task_id=None, rpc_layer=None):
        raise NotImplementedError

    def num_accelerators(self, task_type=None, task_id=None, config_proto=None):
        import torch
        return {"GPU": torch.cuda.device_count()} if torch.cuda.is_available() else {}


class SimpleClusterResolver(ClusterResolver):
    """A cluster resolver holding what it is given."""

    def __init__(self, cluster_spec, master="", task_type=None, task_id=None, environment="",
                 num_accelerators=None, rpc_layer=None):
        self._cluster_spec = ClusterSpec(cluster_spec)
        self._master = master
        self.task_type = task_type
        self.task_id = task_id
        self.environment = environment
        self.rpc_layer = rpc_layer
        self._num_accelerators = num_accelerators

    def cluster_spec(self):
        return self._cluster_spec

    def master(self, task_type=None, task_id=None, rpc_layer=None):
        if task_type is not None and task_id is not None:
            return _with_rpc(self._cluster_spec.task_address(task_type, task_id),
                             rpc_layer or self.rpc_layer)
        return self._master

    def num_accelerators(self, task_type=None, task_id=None, config_proto=None):
        if self._num_accelerators is not None:
            return self._num_accelerators
        return super().num_accelerators(task_type, task_id, config_proto)


class TFConfigClusterResolver(ClusterResolver):
    """Reads the cluster and this task from the `TF_CONFIG` environment variable (read again
    on every call, as TF does)."""

    def __init__(self, task_type=None, task_id=None, rpc_layer=None, environment=None):
        self._task_type = task_type
        self._task_id = task_id
        self._rpc_layer = rpc_layer
        self._environment = environment

    @staticmethod
    def _config():
        return json.loads(os.environ.get("TF_CONFIG") or "{}")

    @property
    def task_type(self):
        if self._task_type is not None:
            return self._task_type
        task = self._config().get("task", {})
        return str(task["type"]) if "type" in task else None

    @task_type.setter
    def task_type(self, value):
        self._task_type = value

    @property
    def task_id(self):
        if self._task_id is not None:
            return self._task_id
        task = self._config().get("task", {})
        return int(task["index"]) if "index" in task else None

    @task_id.setter
    def task_id(self, value):
        self._task_id = value

    @property
    def rpc_layer(self):
        return self._rpc_layer if self._rpc_layer is not None else \
            self._config().get("rpc_layer")

    @property
    def environment(self):
        return self._environment if self._environment is not None else \
            self._config().get("environment")

    def cluster_spec(self):
        return ClusterSpec(self._config().get("cluster", {}))

    def master(self, task_type=None, task_id=None, rpc_layer=None):
        task_type = self.task_type if task_type is None else task_type
        task_id = self.task_id if task_id is None else task_id
        spec = self.cluster_spec()
        if task_type is None or task_id is None or task_type not in spec.jobs:
            return ""
        return _with_rpc(spec.task_address(task_type, task_id), rpc_layer or self.rpc_layer)


def _with_rpc(address, rpc_layer):
    return f"{rpc_layer}://{address}" if rpc_layer else address


# -- the collective's members ---------------------------------------------------------------------

class Task:
    """One member of the collective: its job, index, `host:port`, and torch.distributed
    rank."""

    def __init__(self, job, index, address, rank):
        self.job, self.index, self.address, self.rank = job, index, address, rank

    @property
    def name(self):
        return f"/job:{self.job}/replica:0/task:{self.index}"

    @property
    def host_port(self):
        host, _, port = self.address.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"Task {self.name} has address {self.address!r}; expected "
                             "'host:port'.")
        return host.strip("[]"), int(port)

    def __repr__(self):
        return f"{self.name} ({self.address})"


def ranked_tasks(cluster_resolver):
    """The tasks that take part in collectives, in rank order (chief, then workers), and this
    process's task among them; `([], None)` for a single-worker (local) job."""
    spec = cluster_resolver.cluster_spec()
    jobs = spec.as_dict()
    unsupported = sorted(set(jobs) - {"chief", "worker", "evaluator"})
    if unsupported:
        raise ValueError(f"MultiWorkerMirroredStrategy supports the jobs 'chief', 'worker' "
                         f"(and a separate 'evaluator'); the cluster has {unsupported}.")
    members = [("chief", i) for i in spec.task_indices("chief")] if "chief" in jobs else []
    if "worker" in jobs:
        members += [("worker", i) for i in spec.task_indices("worker")]
    tasks = [Task(job, i, spec.task_address(job, i), rank)
             for rank, (job, i) in enumerate(members)]
    task_type, task_id = cluster_resolver.task_type, cluster_resolver.task_id
    if not tasks or task_type == "evaluator":
        return [], None
    if task_type is None or task_id is None:
        raise ValueError("The cluster has workers but TF_CONFIG names no task: set "
                         "TF_CONFIG['task'] to {'type': 'worker', 'index': i}. Received: "
                         f"task_type={task_type!r}, task_id={task_id!r}")
    for t in tasks:
        if t.job == task_type and t.index == int(task_id):
            return tasks, t
    raise ValueError(f"This task ({task_type!r}, index {task_id!r}) is not in the cluster "
                     f"{spec!r}.")
