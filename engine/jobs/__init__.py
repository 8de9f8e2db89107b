"""Background jobs: the queue backends (rq or in-process, :mod:`engine.jobs.queue`), the job
functions every process runs the same way (:mod:`engine.jobs.tasks`) and the ``qms worker``
loop (:mod:`engine.jobs.worker`)."""
