"""The journal: who did what to which stack, when, with what outcome, in a record anyone can verify.

See ``journal.py`` for how records are appended and chained, ``verify.py`` for how they are checked,
``stores.py`` for where they live (the project's ``.cloudorch/journal/``, or an object store).
"""

from cloudorch.journal.errors import JournalError, JournalInvalid, JournalLocked
from cloudorch.journal.journal import Journal, LockState
from cloudorch.journal.records import Entry
from cloudorch.journal.verify import Problem, Verification

__all__ = ["Entry", "Journal", "JournalError", "JournalInvalid", "JournalLocked", "LockState", "Problem",
           "Verification"]
