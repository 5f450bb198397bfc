""""Interrupt kernel" during ``%mlx run`` in a real kernel: the run stops, the store records it as
interrupted, and the cell shows the engine's message, not a traceback."""
import queue
import time

import pytest

jupyter_client = pytest.importorskip("jupyter_client", reason="the notebook extra: pip install 'mldsl[notebook]'")

LONG_RUN = '''%%mlx
experiment long = Experiment(
    model=Sequential([Flatten(), Dense(64, activation="relu"), Dense(10, activation="softmax")]),
    data=Digits(),
    training={ batch_size = 16, num_epochs = 100000, optimizer = SGD(learning_rate=0.01) },
)
'''


def run_cell(client, code, on_output=None, timeout=60):
    """Executes ``code``; returns its iopub outputs (``on_output(msg)`` sees each as it comes)."""
    msg_id = client.execute(code)
    outputs = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = client.get_iopub_msg(timeout=1)
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind = msg["msg_type"]
        if kind == "status" and msg["content"]["execution_state"] == "idle":
            return outputs
        if kind in ("stream", "display_data", "update_display_data", "execute_result", "error"):
            outputs.append(msg)
            if on_output is not None:
                on_output(msg)
    raise AssertionError(f"no answer within {timeout} s: {outputs}")


def test_interrupting_the_kernel_records_the_run_as_interrupted(kernel_name, work):
    manager = jupyter_client.KernelManager(kernel_name=kernel_name)
    manager.start_kernel(cwd=str(work))
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        run_cell(client, "%load_ext mldsl")
        run_cell(client, LONG_RUN)
        interrupted = []

        def interrupt_after_two_epochs(msg):
            text = msg["content"].get("data", {}).get("text/plain", "")
            if not interrupted and text.startswith("epoch 2/"):
                interrupted.append(text)
                manager.interrupt_kernel()

        outputs = run_cell(client, "%mlx run long", interrupt_after_two_epochs)
        assert interrupted, "the run showed no progress"
        [error] = [m["content"] for m in outputs if m["msg_type"] == "error"]
        message = "\n".join(error["traceback"])
        assert error["ename"] == "CellError" and "Traceback" not in message
        assert message.startswith("interrupted while training: run ") and "is recorded as interrupted" in message

        check = run_cell(client, "from mldsl.engine.store import Store\n"
                                 "with Store('mldsl.db') as s: print([(r.name, r.status) for r in s.list_runs()])")
        assert check[0]["content"]["text"].strip() == "[('long', 'interrupted')]"
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
