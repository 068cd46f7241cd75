"""Reports for the three readers: a review page per call, a coaching report per agent, and a
trends dashboard for managers. Every writer reads the public JSON result of ``callcoach score``
(so reports can be rebuilt from stored results) and writes self-contained files.

Layout under the output directory (a public contract)::

    calls/<call_id>.html      the call review page (QA reviewers)
    agents/<agent_id>.html    the coaching report (the agent), and agents/<agent_id>.md
    dashboard.html            trends per team and agent (managers)
    dashboard.csv, dashboard.parquet   the dashboard's numbers
    index.html                links to everything
"""

from .writer import ReportOptions, write_reports

__all__ = ["ReportOptions", "write_reports"]
