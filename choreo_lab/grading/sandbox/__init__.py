"""The sandbox a submission runs in, and the pipe protocol the grader speaks with it.

The grader (a trusted worker process) holds the simulation and the checks. The learner's
notebook runs in a separate process (`server`), confined (`confine`: a private scratch
directory, an unprivileged user, hidden reference code, resource limits) and watched
(`containment`: everything it starts is ended with it). Each call of the learner's code
crosses a pipe (`protocol`): the grader sends an event and a copy of the service's state,
and gets back the new state and the produced events, which it validates as its own events.
"""
