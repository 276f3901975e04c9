"""Checksums of deletion receipts (docs/lifecycle.md, "Deletion receipts").

The checksum of a set of deleted ids must not depend on the order the ids
were deleted in, and must be accumulable across batches (a retention run or
an online purge deletes in many short transactions). So, per table:

    h(id)      = the first 8 bytes of MD5(str(id)), read as a big-endian unsigned integer
    table_sum  = (sum of h(id) over the deleted ids of the table) mod 2**64

rendered as 16 lowercase hex digits. Two batches combine by adding their sums
mod 2**64. The receipt's overall ``checksum`` is the SHA-256 (hex) of the
lines ``"<table>:<count>:<table_sum>\\n"`` sorted by table name. An auditor
holding a backup recomputes it with :func:`id_sum` and :func:`overall` (ten
lines of Python, no project code needed: ``hashlib`` only). MD5 is not used
for secrecy here but because PostgreSQL has it built in: the sums of a large
delete are computed in the database (``Impact.id_sums``), and a signed
``bigint`` sum is the same value mod 2**64.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

MOD = 1 << 64


def id_hash(pk) -> int:
    return int.from_bytes(hashlib.md5(str(pk).encode()).digest()[:8], "big")


def id_sum(ids: Iterable) -> tuple[int, int]:
    """(count, sum of hashes mod 2**64) of ``ids``."""
    count = total = 0
    for pk in ids:
        count += 1
        total += id_hash(pk)
    return count, total % MOD


def hex64(value: int) -> str:
    return f"{value % MOD:016x}"


def overall(counts: Mapping[str, int], checksums: Mapping[str, str]) -> str:
    lines = "".join(f"{table}:{counts[table]}:{checksums[table]}\n" for table in sorted(counts))
    return hashlib.sha256(lines.encode()).hexdigest()


@dataclass
class ReceiptAccumulator:
    """Counts and id checksums of one delete, added to batch by batch.

    ``add_ids(table, ids)`` for ids a batch deleted (e.g. from ``DELETE ...
    RETURNING id``), ``add_impact(impact)`` for the rows an impact plan
    (workspace/db/impact.py) says a statement deletes, ``merge`` to
    fold another accumulator in. ``receipt_fields()`` gives the ``counts``,
    ``detached``, ``checksums`` and ``checksum`` of a receipt.
    """

    counts: dict[str, int] = field(default_factory=dict)
    sums: dict[str, int] = field(default_factory=dict)
    detached: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_impact(cls, impact) -> ReceiptAccumulator:
        accumulator = cls()
        accumulator.add_impact(impact)
        return accumulator

    def add_ids(self, table: str, ids: Iterable) -> int:
        count, total = id_sum(ids)
        self.counts[table] = self.counts.get(table, 0) + count
        self.sums[table] = (self.sums.get(table, 0) + total) % MOD
        return count

    def add_detached(self, key: str, count: int) -> None:
        if count:
            self.detached[key] = self.detached.get(key, 0) + count

    def add_sum(self, table: str, count: int, total: int) -> None:
        self.counts[table] = self.counts.get(table, 0) + count
        self.sums[table] = (self.sums.get(table, 0) + total) % MOD

    def add_impact(self, impact) -> None:
        """Count and checksum the ids of every table the plan deletes (one
        query per table, ids only, never a row's content) and add its
        detached counts."""
        for table, (count, total) in impact.id_sums().items():
            self.add_sum(table, count, total)
        for key, count in impact.detached().items():
            self.add_detached(key, count)

    def merge(self, other: ReceiptAccumulator) -> None:
        for table, count in other.counts.items():
            self.counts[table] = self.counts.get(table, 0) + count
            self.sums[table] = (self.sums.get(table, 0) + other.sums.get(table, 0)) % MOD
        for key, count in other.detached.items():
            self.add_detached(key, count)

    def checksums(self) -> dict[str, str]:
        return {table: hex64(self.sums.get(table, 0)) for table in sorted(self.counts)}

    def receipt_fields(self) -> dict:
        counts = {table: self.counts[table] for table in sorted(self.counts) if self.counts[table]}
        checksums = {table: value for table, value in self.checksums().items() if table in counts}
        return {
            "counts": counts,
            "detached": dict(sorted(self.detached.items())),
            "checksums": checksums,
            "checksum": overall(counts, checksums),
        }
