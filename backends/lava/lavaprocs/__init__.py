"""Lava processes of snnc, alone in this package: Lava imports every module beside a process when it
searches for process models, so nothing else may live here (imports Lava)."""
