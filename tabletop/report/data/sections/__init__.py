"""The report's sections: each a small pure function of the indexed log (and of what an earlier
section made), composed by `build_report`."""
