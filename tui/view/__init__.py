"""The view model: what the screen shows of a snapshot, worked out without Textual (a contract enforces it).

projection.py applies the filter and gives each view its rows; looks.py says how each graph box and edge
looks; marks.py is the one table of kinds and statuses; layout.py places the graph's boxes; tables.py,
details.py and status.py say what the tables, the details panel and the status line read.
"""
