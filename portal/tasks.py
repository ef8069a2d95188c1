"""Background tasks: enqueueing that never fails a request, and the RQ backend.

``enqueue_on_commit(task, *args)`` queues ``task`` when the current transaction
commits (at once outside one). If the queue cannot take it — the database backend
with the database gone, anything unexpected — a warning is logged and the task is
skipped: ours are renditions, which Wagtail's image view also makes on first
request (core/images.py).

``RQBackend`` is django-tasks-rq's backend (settings ``TASKS_BACKEND=rq``) with two
changes for a web process:

* A task enqueued inside a transaction is pushed to Redis when it commits, so a
  worker never runs it against data it cannot see yet, nor for a transaction that
  was rolled back. Wagtail enqueues its reference-index task in ``post_save``, in
  the middle of a publish.
* When Redis cannot be reached, the task runs in this process instead, as it did
  before there was a worker (a warning in the log; a task that fails is logged, not
  raised). Wagtail's own tasks (reference index, deleting files) must not be lost,
  and a publish must not turn into a 500. After a failure Redis is not tried again
  for ``REDIS_RETRY_SECONDS``, so a publish that enqueues several tasks waits for
  one connection timeout at most.
"""

import logging
import time
from functools import partial

import django_rq
from django.db import transaction
from django_tasks.base import TaskResult, TaskResultStatus
from django_tasks.signals import task_enqueued
from django_tasks.utils import get_random_id
from django_tasks_rq import backend as rq_backend
from redis.exceptions import RedisError
from rq.job import Callback, JobStatus

logger = logging.getLogger(__name__)

REDIS_RETRY_SECONDS = 30


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Enqueue ``task(*args, **kwargs)`` after the commit; never raises."""
    transaction.on_commit(partial(_enqueue_or_skip, task, args, kwargs))


def _enqueue_or_skip(task, args, kwargs) -> None:
    try:
        task.enqueue(*args, **kwargs)
    except Exception as error:
        logger.warning(
            "后台任务 %s%r 未能入队，已跳过：%s: %s",
            task.module_path,
            tuple(args),
            type(error).__name__,
            error,
        )


class RQBackend(rq_backend.RQBackend):
    # Until this monotonic time, Redis is taken to be down (per process).
    _down_until = 0.0

    def enqueue(self, task, args, kwargs):
        self.validate_task(task)
        task_result = TaskResult(
            task=task,
            id=get_random_id(),
            status=TaskResultStatus.READY,
            enqueued_at=None,
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=args,
            kwargs=kwargs,
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        transaction.on_commit(partial(self._push_or_run, task_result))
        return task_result

    def _push_or_run(self, task_result) -> None:
        if time.monotonic() >= RQBackend._down_until:
            try:
                self._push(task_result)
                return
            except RedisError as error:
                RQBackend._down_until = time.monotonic() + REDIS_RETRY_SECONDS
                logger.warning(
                    "Redis 不可用，后台任务 %s 改在本进程内执行（%d 秒内不再尝试 "
                    "Redis）：%s: %s",
                    task_result.task.module_path,
                    REDIS_RETRY_SECONDS,
                    type(error).__name__,
                    error,
                )
        else:
            logger.warning(
                "Redis 不可用，后台任务 %s 在本进程内执行",
                task_result.task.module_path,
            )
        try:
            task_result.task.call(*task_result.args, **task_result.kwargs)
        except Exception:
            logger.exception(
                "后台任务 %s 在本进程内执行失败", task_result.task.module_path
            )

    def _push(self, task_result) -> None:
        """django-tasks-rq's enqueue, with the result (and its id) made earlier."""
        task = task_result.task
        queue = django_rq.get_queue(task.queue_name, job_class=rq_backend.Job)
        job = queue.create_job(
            task.module_path,
            args=task_result.args,
            kwargs=task_result.kwargs,
            job_id=task_result.id,
            status=JobStatus.SCHEDULED if task.run_after else JobStatus.QUEUED,
            on_failure=Callback(rq_backend.failed_callback),
            on_success=Callback(rq_backend.success_callback),
            meta={"backend_name": self.alias},
        )
        if task.run_after is None:
            job = queue.enqueue_job(
                job, at_front=task.priority == rq_backend.TASK_MAX_PRIORITY
            )
        else:
            job = queue.schedule_job(job, task.run_after)
        object.__setattr__(task_result, "enqueued_at", job.enqueued_at)
        task_enqueued.send(type(self), task_result=task_result)
