"""Small pieces of student-like code, each with whether it crashes when its inputs are on a
CUDA device. The tracer must predict this on the CPU (tests/test_student_side.py); on a
machine with a GPU the same table is checked against what CUDA really does."""
import torch


def onehot_zeros_then_subtract(W, X, y):
    onehot = torch.zeros(X.shape[0], W.shape[1], dtype=X.dtype)
    onehot[range(X.shape[0]), y] = 1
    return X.mm(W) - onehot


def eye_indexed_by_labels(W, X, y):
    return torch.eye(W.shape[1], dtype=X.dtype)[y] * X.mm(W)


def arange_index_of_an_input(W, X, y):
    return X.mm(W)[torch.arange(X.shape[0]), y]


def tensor_of_a_range_as_index(W, X, y):
    return X.mm(W)[torch.tensor(range(X.shape[0])), y]


def zeros_like_and_new_zeros(W, X, y):
    mask = torch.zeros_like(X.mm(W))
    mask[torch.arange(X.shape[0]), y] = 1
    return mask * 2 + X.new_zeros(X.shape[0], W.shape[1])


def cpu_scalar_tensor_with_inputs(W, X, y):
    return torch.maximum(torch.tensor(0.0, dtype=X.dtype), X.mm(W)) + torch.tensor(1.0, dtype=X.dtype)


def cpu_scalar_accumulator(W, X, y):
    loss = torch.tensor(0.0, dtype=X.dtype)
    loss = loss + X.mm(W).sum()
    return loss


def cpu_scalar_accumulator_in_place(W, X, y):
    loss = torch.tensor(0.0, dtype=X.dtype)
    for i in range(X.shape[0]):
        loss += X[i].sum()
    return loss


def numpy_of_an_input(W, X, y):
    return (X.mm(W).argmax(1) == y).numpy()


def cpu_vector_times_input_scalar(W, X, y):
    return torch.ones(3, dtype=X.dtype) * X.sum()


def cat_of_input_and_cpu(W, X, y):
    return torch.cat([X, torch.zeros(1, X.shape[1], dtype=X.dtype)])


def onehot_by_comparing_aranges(W, X, y):
    return (torch.arange(W.shape[1]) == y.view(-1, 1)).to(X.dtype) * X.mm(W)


def cpu_gradient_accumulator(W, X, y):
    dW = torch.zeros(W.shape, dtype=X.dtype)
    dW += X.t().mm(X.mm(W))
    return dW


def randint_index_into_input(W, X, y):
    idx = torch.randint(0, X.shape[0], (4,))
    return X[idx], y[idx]


def masked_fill_with_cpu_mask(W, X, y):
    return X.mm(W).masked_fill(torch.ones(X.shape[0], W.shape[1], dtype=torch.bool), 0.0)


def one_hot_of_labels(W, X, y):
    return torch.nn.functional.one_hot(y, W.shape[1]) * X.mm(W)


def relu_in_place_on_a_fresh_tensor(W, X, y):
    h = X.mm(W)
    h[h < 0] = 0
    return h


def zeros_given_the_inputs_device(W, X, y):
    return torch.zeros(X.shape[0], W.shape[1], dtype=X.dtype, device=X.device) + X.mm(W)


def zeros_like_of_a_cpu_tensor_given_the_inputs_device(W, X, y):
    onehot = torch.zeros_like(torch.empty(X.shape[0], W.shape[1]), device=X.device, dtype=X.dtype)
    onehot[range(X.shape[0]), y] = 1
    return X.mm(W) - onehot


def zeros_like_of_a_cpu_tensor(W, X, y):
    onehot = torch.zeros_like(torch.empty(X.shape[0], W.shape[1]), dtype=X.dtype)
    onehot[range(X.shape[0]), y] = 1
    return X.mm(W) - onehot


def new_zeros_of_a_cpu_tensor_given_the_inputs_device(W, X, y):
    return torch.empty(2).new_zeros(X.shape[0], W.shape[1], device=X.device, dtype=X.dtype) + X.mm(W)


def zeros_moved_to_the_gpu(W, X, y):
    return torch.maximum(torch.zeros(X.shape[0], W.shape[1], dtype=X.dtype).to("cuda"), X.mm(W))


def zeros_moved_by_cuda_then_original_used(W, X, y):
    zeros = torch.zeros(X.shape[0], W.shape[1], dtype=X.dtype)
    zeros.cuda()  # the result is dropped: zeros itself stays on the CPU
    return zeros + X.mm(W)


def cpu_copy_of_an_input_used_with_inputs(W, X, y):
    return X.cpu().mm(W)


def cpu_number_read_back_then_inputs(W, X, y):
    return X.mm(W) * X.sum().cpu().item()


def labels_to_the_inputs_device_and_dtype(W, X, y):
    return X.mm(W)[torch.arange(X.shape[0], device=X.device), y.to(dtype=torch.long, device=X.device)]


def zeros_moved_to_the_inputs_device(W, X, y):
    return torch.zeros(X.shape[0], W.shape[1], dtype=X.dtype).to(X.device) + X.mm(W)


def ones_on_the_device_of_a_cpu_tensor(W, X, y):
    onehot = torch.zeros(X.shape[0], W.shape[1], dtype=X.dtype)
    return torch.ones(X.shape[0], W.shape[1], dtype=X.dtype, device=onehot.device) * X.mm(W)


def mask_typed_as_a_gpu_tensor(W, X, y):
    return (X.mm(W) > 0).type(torch.cuda.DoubleTensor) * X.mm(W)


def mask_typed_as_a_cpu_tensor(W, X, y):
    return (X.mm(W) > 0).type(torch.DoubleTensor) * X.mm(W)


def zeros_named_on_the_gpu(W, X, y):
    return torch.zeros(X.shape[0], W.shape[1], dtype=X.dtype, device="cuda") + X.mm(W)


# name -> (function, crashes with CUDA inputs)
SNIPPETS = {fn.__name__: (fn, crashes) for fn, crashes in [
    (onehot_zeros_then_subtract, True), (eye_indexed_by_labels, True), (arange_index_of_an_input, False),
    (tensor_of_a_range_as_index, False), (zeros_like_and_new_zeros, False), (cpu_scalar_tensor_with_inputs, False),
    (cpu_scalar_accumulator, False), (cpu_scalar_accumulator_in_place, True), (numpy_of_an_input, True), (cpu_vector_times_input_scalar, True),
    (cat_of_input_and_cpu, True), (onehot_by_comparing_aranges, True), (cpu_gradient_accumulator, True),
    (randint_index_into_input, False), (masked_fill_with_cpu_mask, True), (one_hot_of_labels, False),
    (relu_in_place_on_a_fresh_tensor, False), (zeros_given_the_inputs_device, False),
    (zeros_like_of_a_cpu_tensor_given_the_inputs_device, False), (zeros_like_of_a_cpu_tensor, True),
    (new_zeros_of_a_cpu_tensor_given_the_inputs_device, False), (zeros_moved_to_the_gpu, False),
    (zeros_moved_by_cuda_then_original_used, True), (cpu_copy_of_an_input_used_with_inputs, True),
    (cpu_number_read_back_then_inputs, False), (labels_to_the_inputs_device_and_dtype, False),
    (zeros_moved_to_the_inputs_device, False), (zeros_named_on_the_gpu, False),
    (ones_on_the_device_of_a_cpu_tensor, True), (mask_typed_as_a_gpu_tensor, False),
    (mask_typed_as_a_cpu_tensor, True),
]}


def inputs(device="cpu"):
    gen = torch.Generator().manual_seed(0)
    W = torch.randn(4, 3, generator=gen, dtype=torch.float64)
    X = torch.randn(6, 4, generator=gen, dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 2, 1, 0])
    return W.to(device), X.to(device), y.to(device)
