import pytest
import torch


@pytest.fixture(autouse=True)
def _single_thread_torch():
    """Tests run on a shared 2-core machine: one torch thread, seeded."""
    torch.set_num_threads(1)
    torch.manual_seed(0)
