"""The web console: executions and their graphs, schedules, task runs, functions, Logs Insights.

``wiring.install(app, stepfunctions=..., logs=...)`` adds the console to a server ``App``: HTML
pages under ``/`` and ``/ui/...``, their JSON under ``/ui/api/...``, assets under
``/static/...`` -- explicit paths and methods only, so every other request (AWS's POST ``/``,
Lambda's ``/2015-03-31/...``, Scheduler's ``/schedules/...``) still reaches the AWS
dispatcher. Components the server does not run (Scheduler, ECS, Lambda) show as "not
available on this server" instead of failing. Sign-in is required only beyond loopback.
"""
