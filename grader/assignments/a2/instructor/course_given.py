"""The course's given code of Assignment 2 (EECS 498-007 / 598-005), as its two terms hand out
the template: Fall 2020 (2-space indentation) and Winter 2022 (4-space, type hints), each
written here in the kit's own words (no docstrings, no comments, every TODO region a ``pass``),
statement for statement what the course gives. The similarity report counts these lines as
template, as it does the kit's own stubs: two students who hand in the course's template share
nothing they wrote. ``tests/test_similarity.py`` checks that they match the course-layout corpus
of the tests line for line."""

COURSE_TEMPLATES = {
    "Fall 2020": {
        "linear_classifier.py": '''\
import torch
import random
import statistics
from abc import abstractmethod
def hello_linear_classifier():
  print("Hello from linear_classifier.py!")
class LinearClassifier(object):
  def __init__(self):
    random.seed(0)
    torch.manual_seed(0)
    self.W = None
  def train(self, X_train, y_train, learning_rate=1e-3, reg=1e-5, num_iters=100,
            batch_size=200, verbose=False):
    train_args = (self.loss, self.W, X_train, y_train, learning_rate, reg,
                  num_iters, batch_size, verbose)
    self.W, loss_history = train_linear_classifier(*train_args)
    return loss_history
  def predict(self, X):
    return predict_linear_classifier(self.W, X)
  @abstractmethod
  def loss(self, W, X_batch, y_batch, reg):
    raise NotImplementedError
  def _loss(self, X_batch, y_batch, reg):
    self.loss(self.W, X_batch, y_batch, reg)
  def save(self, path):
    torch.save({"W": self.W}, path)
    print("Saved in {}".format(path))
  def load(self, path):
    W_dict = torch.load(path, map_location="cpu")
    self.W = W_dict["W"]
    print("load checkpoint file: {}".format(path))
class LinearSVM(LinearClassifier):
  def loss(self, W, X_batch, y_batch, reg):
    return svm_loss_vectorized(W, X_batch, y_batch, reg)
class Softmax(LinearClassifier):
  def loss(self, W, X_batch, y_batch, reg):
    return softmax_loss_vectorized(W, X_batch, y_batch, reg)
def svm_loss_naive(W, X, y, reg):
  dW = torch.zeros_like(W)  # the gradient starts at zero
  num_classes = W.shape[1]
  num_train = X.shape[0]
  loss = 0.0
  for i in range(num_train):
    scores = W.t().mv(X[i])
    correct_class_score = scores[y[i]]
    for j in range(num_classes):
      if j == y[i]:
        continue
      margin = scores[j] - correct_class_score + 1  # delta is 1
      if margin > 0:
        loss += margin
        pass
  loss /= num_train
  loss += reg * torch.sum(W * W)
  pass
  return loss, dW
def svm_loss_vectorized(W, X, y, reg):
  loss = 0.0
  dW = torch.zeros_like(W)  # the gradient starts at zero
  pass
  pass
  return loss, dW
def sample_batch(X, y, num_train, batch_size):
  X_batch = None
  y_batch = None
  pass
  return X_batch, y_batch
def train_linear_classifier(loss_func, W, X, y, learning_rate=1e-3,
                            reg=1e-5, num_iters=100, batch_size=200,
                            verbose=False):
  num_train, dim = X.shape
  if W is None:
    num_classes = torch.max(y) + 1
    W = 0.000001 * torch.randn(dim, num_classes, device=X.device, dtype=X.dtype)
  else:
    num_classes = W.shape[1]
  loss_history = []
  for it in range(num_iters):
    X_batch, y_batch = sample_batch(X, y, num_train, batch_size)
    loss, grad = loss_func(W, X_batch, y_batch, reg)
    loss_history.append(loss.item())
    pass
    if verbose and it % 100 == 0:
      print("iteration %d / %d: loss %f" % (it, num_iters, loss))
  return W, loss_history
def predict_linear_classifier(W, X):
  y_pred = torch.zeros(X.shape[0], dtype=torch.int64)
  pass
  return y_pred
def svm_get_search_params():
  learning_rates = []
  regularization_strengths = []
  pass
  return learning_rates, regularization_strengths
def test_one_param_set(cls, data_dict, lr, reg, num_iters=2000):
  train_acc = 0.0  # accuracy: the fraction of samples
  val_acc = 0.0    # that are classified correctly
  pass
  return cls, train_acc, val_acc
def softmax_loss_naive(W, X, y, reg):
  loss = 0.0
  dW = torch.zeros_like(W)
  pass
  return loss, dW
def softmax_loss_vectorized(W, X, y, reg):
  loss = 0.0
  dW = torch.zeros_like(W)
  pass
  return loss, dW
def softmax_get_search_params():
  learning_rates = []
  regularization_strengths = []
  pass
  return learning_rates, regularization_strengths
''',
        "two_layer_net.py": '''\
import torch
import random
import statistics
from linear_classifier import sample_batch
def hello_two_layer_net():
  print("Hello from two_layer_net.py!")
class TwoLayerNet(object):
  def __init__(self, input_size, hidden_size, output_size,
               dtype=torch.float32, device='cuda', std=1e-4):
    random.seed(0)
    torch.manual_seed(0)
    self.params = {}
    self.params["W1"] = std * torch.randn(input_size, hidden_size, dtype=dtype, device=device)
    self.params["b1"] = torch.zeros(hidden_size, dtype=dtype, device=device)
    self.params["W2"] = std * torch.randn(hidden_size, output_size, dtype=dtype, device=device)
    self.params["b2"] = torch.zeros(output_size, dtype=dtype, device=device)
  def loss(self, X, y=None, reg=0.0):
    return nn_forward_backward(self.params, X, y, reg)
  def train(self, X, y, X_val, y_val,
            learning_rate=1e-3, learning_rate_decay=0.95,
            reg=5e-6, num_iters=100,
            batch_size=200, verbose=False):
    return nn_train(
        self.params, nn_forward_backward, nn_predict, X, y,
        X_val, y_val, learning_rate, learning_rate_decay,
        reg, num_iters, batch_size, verbose)
  def predict(self, X):
    return nn_predict(self.params, nn_forward_backward, X)
  def save(self, path):
    torch.save(self.params, path)
    print("Saved in {}".format(path))
  def load(self, path):
    checkpoint = torch.load(path, map_location="cpu")
    self.params = checkpoint
    print("load checkpoint file: {}".format(path))
def nn_forward_pass(params, X):
    W1, b1 = params["W1"], params["b1"]
    W2, b2 = params["W2"], params["b2"]
    N, D = X.shape
    hidden = None
    scores = None
    pass
    return scores, hidden
def nn_forward_backward(params, X, y=None, reg=0.0):
    W1, b1 = params["W1"], params["b1"]
    W2, b2 = params["W2"], params["b2"]
    N, D = X.shape
    scores, h1 = nn_forward_pass(params, X)
    if y is None:
        return scores
    loss = None
    pass
    grads = {}
    pass
    return loss, grads
def nn_train(params, loss_func, pred_func, X, y, X_val, y_val,
             learning_rate=1e-3, learning_rate_decay=0.95,
             reg=5e-6, num_iters=100,
             batch_size=200, verbose=False):
  num_train = X.shape[0]
  iterations_per_epoch = max(num_train // batch_size, 1)
  loss_history = []
  train_acc_history = []
  val_acc_history = []
  for it in range(num_iters):
    X_batch, y_batch = sample_batch(X, y, num_train, batch_size)
    loss, grads = loss_func(params, X_batch, y=y_batch, reg=reg)
    loss_history.append(loss.item())
    pass
    if verbose and it % 100 == 0:
      print("iteration %d / %d: loss %f" % (it, num_iters, loss.item()))
    if it % iterations_per_epoch == 0:
      y_train_pred = pred_func(params, loss_func, X_batch)
      train_acc = (y_train_pred == y_batch).float().mean().item()
      y_val_pred = pred_func(params, loss_func, X_val)
      val_acc = (y_val_pred == y_val).float().mean().item()
      train_acc_history.append(train_acc)
      val_acc_history.append(val_acc)
      learning_rate *= learning_rate_decay
  return {
      "loss_history": loss_history,
      "train_acc_history": train_acc_history,
      "val_acc_history": val_acc_history,
  }
def nn_predict(params, loss_func, X):
  y_pred = None
  pass
  return y_pred
def nn_get_search_params():
  learning_rates = []
  hidden_sizes = []
  regularization_strengths = []
  learning_rate_decays = []
  pass
  return learning_rates, hidden_sizes, regularization_strengths, learning_rate_decays
def find_best_net(data_dict, get_param_set_fn):
  best_net = None
  best_stat = None
  best_val_acc = 0.0
  pass
  return best_net, best_stat, best_val_acc
''',
    },
    "Winter 2022": {
        "linear_classifier.py": '''\
import torch
import random
import statistics
from abc import abstractmethod
from typing import Dict, List, Callable, Optional
def hello_linear_classifier():
    print("Hello from linear_classifier.py!")
class LinearClassifier:
    def __init__(self):
        random.seed(0)
        torch.manual_seed(0)
        self.W = None
    def train(
        self,
        X_train: torch.Tensor,
        y_train: torch.Tensor,
        learning_rate: float = 1e-3,
        reg: float = 1e-5,
        num_iters: int = 100,
        batch_size: int = 200,
        verbose: bool = False,
    ):
        train_args = (self.loss, self.W, X_train, y_train, learning_rate, reg,
                      num_iters, batch_size, verbose)
        self.W, loss_history = train_linear_classifier(*train_args)
        return loss_history
    def predict(self, X: torch.Tensor):
        return predict_linear_classifier(self.W, X)
    @abstractmethod
    def loss(
        self,
        W: torch.Tensor,
        X_batch: torch.Tensor,
        y_batch: torch.Tensor,
        reg: float,
    ):
        raise NotImplementedError
    def _loss(self, X_batch, y_batch, reg):
        self.loss(self.W, X_batch, y_batch, reg)
    def save(self, path: str):
        torch.save({"W": self.W}, path)
        print("Saved in {}".format(path))
    def load(self, path: str):
        W_dict = torch.load(path, map_location="cpu")
        self.W = W_dict["W"]
        if self.W is None:
            raise Exception("Failed to load your checkpoint")
class LinearSVM(LinearClassifier):
    def loss(self, W, X_batch, y_batch, reg):
        return svm_loss_vectorized(W, X_batch, y_batch, reg)
class Softmax(LinearClassifier):
    def loss(self, W, X_batch, y_batch, reg):
        return softmax_loss_vectorized(W, X_batch, y_batch, reg)
def svm_loss_naive(
    W: torch.Tensor, X: torch.Tensor, y: torch.Tensor, reg: float
):
    dW = torch.zeros_like(W)  # the gradient starts at zero
    num_classes = W.shape[1]
    num_train = X.shape[0]
    loss = 0.0
    for i in range(num_train):
        scores = W.t().mv(X[i])
        correct_class_score = scores[y[i]]
        for j in range(num_classes):
            if j == y[i]:
                continue
            margin = scores[j] - correct_class_score + 1  # delta is 1
            if margin > 0:
                loss += margin
                pass
    loss /= num_train
    loss += reg * torch.sum(W * W)
    pass
    return loss, dW
def svm_loss_vectorized(
    W: torch.Tensor, X: torch.Tensor, y: torch.Tensor, reg: float
):
    loss = 0.0
    dW = torch.zeros_like(W)  # the gradient starts at zero
    pass
    pass
    return loss, dW
def sample_batch(
    X: torch.Tensor, y: torch.Tensor, num_train: int, batch_size: int
):
    X_batch = None
    y_batch = None
    pass
    return X_batch, y_batch
def train_linear_classifier(
    loss_func: Callable,
    W: torch.Tensor,
    X: torch.Tensor,
    y: torch.Tensor,
    learning_rate: float = 1e-3,
    reg: float = 1e-5,
    num_iters: int = 100,
    batch_size: int = 200,
    verbose: bool = False,
):
    num_train, dim = X.shape
    if W is None:
        num_classes = torch.max(y) + 1
        W = 0.000001 * torch.randn(dim, num_classes, device=X.device, dtype=X.dtype)
    else:
        num_classes = W.shape[1]
    loss_history = []
    for it in range(num_iters):
        X_batch, y_batch = sample_batch(X, y, num_train, batch_size)
        loss, grad = loss_func(W, X_batch, y_batch, reg)
        loss_history.append(loss.item())
        pass
        if verbose and it % 100 == 0:
            print("iteration %d / %d: loss %f" % (it, num_iters, loss))
    return W, loss_history
def predict_linear_classifier(W: torch.Tensor, X: torch.Tensor):
    y_pred = torch.zeros(X.shape[0], dtype=torch.int64)
    pass
    return y_pred
def svm_get_search_params():
    learning_rates = []
    regularization_strengths = []
    pass
    return learning_rates, regularization_strengths
def test_one_param_set(
    cls: LinearClassifier,
    data_dict: Dict[str, torch.Tensor],
    lr: float,
    reg: float,
    num_iters: int = 2000,
):
    train_acc = 0.0  # accuracy: the fraction of samples
    val_acc = 0.0    # that are classified correctly
    pass
    return cls, train_acc, val_acc
def softmax_loss_naive(
    W: torch.Tensor, X: torch.Tensor, y: torch.Tensor, reg: float
):
    loss = 0.0
    dW = torch.zeros_like(W)
    pass
    return loss, dW
def softmax_loss_vectorized(
    W: torch.Tensor, X: torch.Tensor, y: torch.Tensor, reg: float
):
    loss = 0.0
    dW = torch.zeros_like(W)
    pass
    return loss, dW
def softmax_get_search_params():
    learning_rates = []
    regularization_strengths = []
    pass
    return learning_rates, regularization_strengths
''',
        "two_layer_net.py": '''\
import torch
import random
import statistics
from linear_classifier import sample_batch
from typing import Dict, List, Callable, Optional
def hello_two_layer_net():
    print("Hello from two_layer_net.py!")
class TwoLayerNet(object):
    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        dtype: torch.dtype = torch.float32,
        device: str = "cuda",
        std: float = 1e-4,
    ):
        random.seed(0)
        torch.manual_seed(0)
        self.params = {}
        self.params["W1"] = std * torch.randn(input_size, hidden_size, dtype=dtype, device=device)
        self.params["b1"] = torch.zeros(hidden_size, dtype=dtype, device=device)
        self.params["W2"] = std * torch.randn(hidden_size, output_size, dtype=dtype, device=device)
        self.params["b2"] = torch.zeros(output_size, dtype=dtype, device=device)
    def loss(
        self,
        X: torch.Tensor,
        y: Optional[torch.Tensor] = None,
        reg: float = 0.0,
    ):
        return nn_forward_backward(self.params, X, y, reg)
    def train(
        self,
        X: torch.Tensor,
        y: torch.Tensor,
        X_val: torch.Tensor,
        y_val: torch.Tensor,
        learning_rate: float = 1e-3,
        learning_rate_decay: float = 0.95,
        reg: float = 5e-6,
        num_iters: int = 100,
        batch_size: int = 200,
        verbose: bool = False,
    ):
        return nn_train(
            self.params, nn_forward_backward, nn_predict, X, y,
            X_val, y_val, learning_rate, learning_rate_decay,
            reg, num_iters, batch_size, verbose)
    def predict(self, X: torch.Tensor):
        return nn_predict(self.params, nn_forward_backward, X)
    def save(self, path: str):
        torch.save(self.params, path)
        print("Saved in {}".format(path))
    def load(self, path: str):
        checkpoint = torch.load(path, map_location="cpu")
        self.params = checkpoint
        if len(self.params) != 4:
            raise Exception("Failed to load your checkpoint")
        for param in ["W1", "b1", "W2", "b2"]:
            if param not in self.params:
                raise Exception("Failed to load your checkpoint")
def nn_forward_pass(params: Dict[str, torch.Tensor], X: torch.Tensor):
    W1, b1 = params["W1"], params["b1"]
    W2, b2 = params["W2"], params["b2"]
    N, D = X.shape
    hidden = None
    scores = None
    pass
    return scores, hidden
def nn_forward_backward(
    params: Dict[str, torch.Tensor],
    X: torch.Tensor,
    y: Optional[torch.Tensor] = None,
    reg: float = 0.0
):
    W1, b1 = params["W1"], params["b1"]
    W2, b2 = params["W2"], params["b2"]
    N, D = X.shape
    scores, h1 = nn_forward_pass(params, X)
    if y is None:
        return scores
    loss = None
    pass
    grads = {}
    pass
    return loss, grads
def nn_train(
    params: Dict[str, torch.Tensor],
    loss_func: Callable,
    pred_func: Callable,
    X: torch.Tensor,
    y: torch.Tensor,
    X_val: torch.Tensor,
    y_val: torch.Tensor,
    learning_rate: float = 1e-3,
    learning_rate_decay: float = 0.95,
    reg: float = 5e-6,
    num_iters: int = 100,
    batch_size: int = 200,
    verbose: bool = False,
):
    num_train = X.shape[0]
    iterations_per_epoch = max(num_train // batch_size, 1)
    loss_history = []
    train_acc_history = []
    val_acc_history = []
    for it in range(num_iters):
        X_batch, y_batch = sample_batch(X, y, num_train, batch_size)
        loss, grads = loss_func(params, X_batch, y=y_batch, reg=reg)
        loss_history.append(loss.item())
        pass
        if verbose and it % 100 == 0:
            print("iteration %d / %d: loss %f" % (it, num_iters, loss.item()))
        if it % iterations_per_epoch == 0:
            y_train_pred = pred_func(params, loss_func, X_batch)
            train_acc = (y_train_pred == y_batch).float().mean().item()
            y_val_pred = pred_func(params, loss_func, X_val)
            val_acc = (y_val_pred == y_val).float().mean().item()
            train_acc_history.append(train_acc)
            val_acc_history.append(val_acc)
            learning_rate *= learning_rate_decay
    return {
        "loss_history": loss_history,
        "train_acc_history": train_acc_history,
        "val_acc_history": val_acc_history,
    }
def nn_predict(
    params: Dict[str, torch.Tensor], loss_func: Callable, X: torch.Tensor
):
    y_pred = None
    pass
    return y_pred
def nn_get_search_params():
    learning_rates = []
    hidden_sizes = []
    regularization_strengths = []
    learning_rate_decays = []
    pass
    return learning_rates, hidden_sizes, regularization_strengths, learning_rate_decays
def find_best_net(
    data_dict: Dict[str, torch.Tensor], get_param_set_fn: Callable
):
    best_net = None
    best_stat = None
    best_val_acc = 0.0
    pass
    return best_net, best_stat, best_val_acc
''',
    },
}
