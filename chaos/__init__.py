"""The chaos harness: bring the system up on a platform, load it, hurt it, check every job.

from chaos import RunOptions, load_scenario, make_platform, run_scenario

result = run_scenario(load_scenario("scenarios/redis-restart.yaml"), RunOptions(),
                      make_platform)
print(result.verdict.counts)
"""

from chaos.checker import Verdict, check
from chaos.platforms import make_platform
from chaos.runner import RunOptions, RunResult, run_scenario
from chaos.scenario import Scenario, load_scenario

__all__ = [
    "RunOptions",
    "RunResult",
    "Scenario",
    "Verdict",
    "check",
    "load_scenario",
    "make_platform",
    "run_scenario",
]
