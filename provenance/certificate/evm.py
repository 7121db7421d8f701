"""A minimal anchoring contract with the EAS timestamp interface, assembled here (no solc needed).

The contract implements the timestamping subset of the Ethereum Attestation Service interface:

* ``timestamp(bytes32 data) returns (uint64)``: records ``block.timestamp`` for ``data``, emits
  ``Timestamped(bytes32 indexed data, uint64 indexed timestamp)`` and reverts when ``data`` was
  already timestamped (as EAS does);
* ``getTimestamp(bytes32 data) view returns (uint64)``: the recorded time, 0 when none.

So the same client code anchors against a real EAS deployment or this contract. The bytecode is
produced by a small two-pass assembler from the listing below, so it can be read and audited.
"""

from __future__ import annotations

# keccak256 of the signatures (checked against eth_utils.keccak in the tests; written out here
# so importing the package does not load the Ethereum libraries)
#: keccak256("timestamp(bytes32)")[:4]
TIMESTAMP_SELECTOR = bytes.fromhex("4d003070")
#: keccak256("getTimestamp(bytes32)")[:4]
GET_TIMESTAMP_SELECTOR = bytes.fromhex("d45c4435")
#: keccak256("Timestamped(bytes32,uint64)")
TIMESTAMPED_TOPIC = bytes.fromhex(
    "5aafceeb1c7ad58e4a84898bdee37c02c0fc46e7d24e6b60e8209449f183459f"
)

OPCODES = {
    "STOP": 0x00,
    "LT": 0x10,
    "EQ": 0x14,
    "SHR": 0x1C,
    "CALLVALUE": 0x34,
    "CALLDATALOAD": 0x35,
    "CALLDATASIZE": 0x36,
    "CODECOPY": 0x39,
    "TIMESTAMP": 0x42,
    "MSTORE": 0x52,
    "SLOAD": 0x54,
    "SSTORE": 0x55,
    "JUMPI": 0x57,
    "JUMPDEST": 0x5B,
    "PUSH0": 0x5F,
    "DUP1": 0x80,
    "DUP2": 0x81,
    "LOG3": 0xA3,
    "RETURN": 0xF3,
    "REVERT": 0xFD,
}

Item = str | bytes


def assemble(listing: list[Item]) -> bytes:
    """Assemble opcode names, ``bytes`` (pushed with the right PUSHn), ``"name:"`` labels and
    ``"@name"`` label references (pushed as one byte: the code must stay under 256 bytes)."""
    labels: dict[str, int] = {}
    for pass_no in range(2):
        out = bytearray()
        for it in listing:
            if isinstance(it, bytes):
                if not 1 <= len(it) <= 32:
                    raise ValueError("push data must have 1..32 bytes")
                out += bytes([0x5F + len(it)]) + it
            elif it.endswith(":"):
                labels[it[:-1]] = len(out)
                out.append(OPCODES["JUMPDEST"])
            elif it.startswith("@"):
                target = labels.get(it[1:], 0) if pass_no == 0 else labels[it[1:]]
                if target > 255:
                    raise ValueError("jump target beyond one byte")
                out += bytes([0x60, target])
            else:
                out.append(OPCODES[it])
    return bytes(out)


RUNTIME_LISTING: list[Item] = [
    # no ether accepted; at least a selector
    "CALLVALUE", "@revert", "JUMPI",
    b"\x04", "CALLDATASIZE", "LT", "@revert", "JUMPI",
    # selector = calldata[0:4]
    "PUSH0", "CALLDATALOAD", b"\xe0", "SHR",
    "DUP1", TIMESTAMP_SELECTOR, "EQ", "@timestamp", "JUMPI",
    "DUP1", GET_TIMESTAMP_SELECTOR, "EQ", "@get", "JUMPI",
    "revert:", "PUSH0", "PUSH0", "REVERT",
    "timestamp:",
    b"\x24", "CALLDATASIZE", "LT", "@revert", "JUMPI",
    b"\x04", "CALLDATALOAD",                      # data
    "DUP1", "SLOAD", "@revert", "JUMPI",          # already timestamped -> revert
    "TIMESTAMP", "DUP2", "SSTORE",                # storage[data] = block.timestamp
    "TIMESTAMP", "DUP2", TIMESTAMPED_TOPIC, "PUSH0", "PUSH0", "LOG3",
    "TIMESTAMP", "PUSH0", "MSTORE", b"\x20", "PUSH0", "RETURN",
    "get:",
    b"\x24", "CALLDATASIZE", "LT", "@revert", "JUMPI",
    b"\x04", "CALLDATALOAD", "SLOAD", "PUSH0", "MSTORE", b"\x20", "PUSH0", "RETURN",
]  # fmt: skip

RUNTIME = assemble(RUNTIME_LISTING)


def init_code(runtime: bytes = RUNTIME) -> bytes:
    """Deployment code that returns ``runtime`` (10-byte prologue + runtime)."""
    prologue = assemble(
        [len(runtime).to_bytes(2, "big"), "DUP1", b"\x0a", "PUSH0", "CODECOPY", "PUSH0", "RETURN"]
    )
    assert len(prologue) == 10
    return prologue + runtime
