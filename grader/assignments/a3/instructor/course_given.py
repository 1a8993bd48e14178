"""The course's given code of Assignment 3, part 1 (EECS 498-007 / 598-005,
``fully_connected_networks.py``), as its two terms hand out the template: Fall 2020 (2-space
indentation, ``import random`` and ``svm_loss`` imported beside ``softmax_loss``, ``if config is
None: config = {}`` on one line) and Winter 2022 (4-space), each written here in the kit's own
words (no docstrings, no comments, every TODO region a ``pass``), statement for statement what the
course gives: ``hello_fully_connected_networks``, the whole of ``Linear_ReLU``, the ``save`` and
``load`` of both nets, the lines around each TODO (``out = None``, ``cache = (x, w, b)``,
``self.params = {}``, FullyConnectedNet's dtype cast, dropout mode and ``dropout_param``, the
Solver's ``model = TwoLayerNet(hidden_dim=200, ...)``, the search functions' starting values, the
optimizers' ``config.setdefault`` defaults, Dropout's seeding), ``sgd`` whole. The similarity
report counts these lines as template, as it does the kit's own stubs: two students who hand in
the course's template share nothing they wrote. ``tests/test_similarity_a3.py`` checks that they
match the course-layout corpus of the tests line for line."""

COURSE_TEMPLATES = {
    "Fall 2020": {
        "fully_connected_networks.py": '''\
import torch
import random
from a3_helper import svm_loss, softmax_loss
from eecs598 import Solver
def hello_fully_connected_networks():
  print('Hello from fully_connected_networks.py!')
class Linear(object):
  @staticmethod
  def forward(x, w, b):
    out = None
    pass
    cache = (x, w, b)
    return out, cache
  @staticmethod
  def backward(dout, cache):
    x, w, b = cache
    dx, dw, db = None, None, None
    pass
    return dx, dw, db
class ReLU(object):
  @staticmethod
  def forward(x):
    out = None
    pass
    cache = x
    return out, cache
  @staticmethod
  def backward(dout, cache):
    dx, x = None, cache
    pass
    return dx
class Linear_ReLU(object):
  @staticmethod
  def forward(x, w, b):
    a, fc_cache = Linear.forward(x, w, b)
    out, relu_cache = ReLU.forward(a)
    cache = (fc_cache, relu_cache)
    return out, cache
  @staticmethod
  def backward(dout, cache):
    fc_cache, relu_cache = cache
    da = ReLU.backward(dout, relu_cache)
    dx, dw, db = Linear.backward(da, fc_cache)
    return dx, dw, db
class TwoLayerNet(object):
  def __init__(self, input_dim=3*32*32, hidden_dim=100, num_classes=10,
               weight_scale=1e-3, reg=0.0, dtype=torch.float32, device='cpu'):
    self.params = {}
    self.reg = reg
    pass
  def save(self, path):
    checkpoint = {
      'reg': self.reg,
      'params': self.params,
    }
    torch.save(checkpoint, path)
    print("Saved in {}".format(path))
  def load(self, path, dtype, device):
    checkpoint = torch.load(path, map_location='cpu')
    self.params = checkpoint['params']
    self.reg = checkpoint['reg']
    for p in self.params:
      self.params[p] = self.params[p].type(dtype).to(device)
    print("load checkpoint file: {}".format(path))
  def loss(self, X, y=None):
    scores = None
    pass
    if y is None:
      return scores
    loss, grads = 0, {}
    pass
    return loss, grads
class FullyConnectedNet(object):
  def __init__(self, hidden_dims, input_dim=3*32*32, num_classes=10,
               dropout=0.0, reg=0.0, weight_scale=1e-2, seed=None,
               dtype=torch.float, device='cpu'):
    self.use_dropout = dropout != 0
    self.reg = reg
    self.num_layers = 1 + len(hidden_dims)
    self.dtype = dtype
    self.params = {}
    pass
    self.dropout_param = {}
    if self.use_dropout:
      self.dropout_param = {'mode': 'train', 'p': dropout}
      if seed is not None:
        self.dropout_param['seed'] = seed
  def save(self, path):
    checkpoint = {
      'reg': self.reg,
      'dtype': self.dtype,
      'params': self.params,
      'num_layers': self.num_layers,
      'use_dropout': self.use_dropout,
      'dropout_param': self.dropout_param,
    }
    torch.save(checkpoint, path)
    print("Saved in {}".format(path))
  def load(self, path, dtype, device):
    checkpoint = torch.load(path, map_location='cpu')
    self.params = checkpoint['params']
    self.dtype = dtype
    self.reg = checkpoint['reg']
    self.num_layers = checkpoint['num_layers']
    self.use_dropout = checkpoint['use_dropout']
    self.dropout_param = checkpoint['dropout_param']
    for p in self.params:
      self.params[p] = self.params[p].type(dtype).to(device)
    print("load checkpoint file: {}".format(path))
  def loss(self, X, y=None):
    X = X.to(self.dtype)
    mode = 'test' if y is None else 'train'
    if self.use_dropout:
      self.dropout_param['mode'] = mode
    scores = None
    pass
    if mode == 'test':
      return scores
    loss, grads = 0.0, {}
    pass
    return loss, grads
def create_solver_instance(data_dict, dtype, device):
  model = TwoLayerNet(hidden_dim=200, dtype=dtype, device=device)
  solver = None
  pass
  return solver
def get_three_layer_network_params():
  weight_scale = 1e-2
  learning_rate = 1e-4
  pass
  return weight_scale, learning_rate
def get_five_layer_network_params():
  learning_rate = 2e-3
  weight_scale = 1e-5
  pass
  return weight_scale, learning_rate
def sgd(w, dw, config=None):
  if config is None: config = {}
  config.setdefault('learning_rate', 1e-2)
  w -= config['learning_rate'] * dw
  return w, config
def sgd_momentum(w, dw, config=None):
  if config is None: config = {}
  config.setdefault('learning_rate', 1e-2)
  config.setdefault('momentum', 0.9)
  v = config.get('velocity', torch.zeros_like(w))
  next_w = None
  pass
  config['velocity'] = v
  return next_w, config
def rmsprop(w, dw, config=None):
  if config is None: config = {}
  config.setdefault('learning_rate', 1e-2)
  config.setdefault('decay_rate', 0.99)
  config.setdefault('epsilon', 1e-8)
  config.setdefault('cache', torch.zeros_like(w))
  next_w = None
  pass
  return next_w, config
def adam(w, dw, config=None):
  if config is None: config = {}
  config.setdefault('learning_rate', 1e-3)
  config.setdefault('beta1', 0.9)
  config.setdefault('beta2', 0.999)
  config.setdefault('epsilon', 1e-8)
  config.setdefault('m', torch.zeros_like(w))
  config.setdefault('v', torch.zeros_like(w))
  config.setdefault('t', 0)
  next_w = None
  pass
  return next_w, config
class Dropout(object):
  @staticmethod
  def forward(x, dropout_param):
    p, mode = dropout_param['p'], dropout_param['mode']
    if 'seed' in dropout_param:
      torch.manual_seed(dropout_param['seed'])
    mask = None
    out = None
    if mode == 'train':
      pass
    elif mode == 'test':
      pass
    cache = (dropout_param, mask)
    return out, cache
  @staticmethod
  def backward(dout, cache):
    dropout_param, mask = cache
    mode = dropout_param['mode']
    dx = None
    if mode == 'train':
      pass
    elif mode == 'test':
      dx = dout
    return dx
''',
    },
    "Winter 2022": {
        "fully_connected_networks.py": '''\
import torch
from a3_helper import softmax_loss
from eecs598 import Solver
def hello_fully_connected_networks():
    print('Hello from fully_connected_networks.py!')
class Linear(object):
    @staticmethod
    def forward(x, w, b):
        out = None
        pass
        cache = (x, w, b)
        return out, cache
    @staticmethod
    def backward(dout, cache):
        x, w, b = cache
        dx, dw, db = None, None, None
        pass
        return dx, dw, db
class ReLU(object):
    @staticmethod
    def forward(x):
        out = None
        pass
        cache = x
        return out, cache
    @staticmethod
    def backward(dout, cache):
        dx, x = None, cache
        pass
        return dx
class Linear_ReLU(object):
    @staticmethod
    def forward(x, w, b):
        a, fc_cache = Linear.forward(x, w, b)
        out, relu_cache = ReLU.forward(a)
        cache = (fc_cache, relu_cache)
        return out, cache
    @staticmethod
    def backward(dout, cache):
        fc_cache, relu_cache = cache
        da = ReLU.backward(dout, relu_cache)
        dx, dw, db = Linear.backward(da, fc_cache)
        return dx, dw, db
class TwoLayerNet(object):
    def __init__(self, input_dim=3*32*32, hidden_dim=100, num_classes=10,
                 weight_scale=1e-3, reg=0.0,
                 dtype=torch.float32, device='cpu'):
        self.params = {}
        self.reg = reg
        pass
    def save(self, path):
        checkpoint = {
          'reg': self.reg,
          'params': self.params,
        }
        torch.save(checkpoint, path)
        print("Saved in {}".format(path))
    def load(self, path, dtype, device):
        checkpoint = torch.load(path, map_location='cpu')
        self.params = checkpoint['params']
        self.reg = checkpoint['reg']
        for p in self.params:
            self.params[p] = self.params[p].type(dtype).to(device)
        print("load checkpoint file: {}".format(path))
    def loss(self, X, y=None):
        scores = None
        pass
        if y is None:
            return scores
        loss, grads = 0, {}
        pass
        return loss, grads
class FullyConnectedNet(object):
    def __init__(self, hidden_dims, input_dim=3*32*32, num_classes=10,
                 dropout=0.0, reg=0.0, weight_scale=1e-2, seed=None,
                 dtype=torch.float, device='cpu'):
        self.use_dropout = dropout != 0
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = dtype
        self.params = {}
        pass
        self.dropout_param = {}
        if self.use_dropout:
            self.dropout_param = {'mode': 'train', 'p': dropout}
            if seed is not None:
                self.dropout_param['seed'] = seed
    def save(self, path):
        checkpoint = {
          'reg': self.reg,
          'dtype': self.dtype,
          'params': self.params,
          'num_layers': self.num_layers,
          'use_dropout': self.use_dropout,
          'dropout_param': self.dropout_param,
        }
        torch.save(checkpoint, path)
        print("Saved in {}".format(path))
    def load(self, path, dtype, device):
        checkpoint = torch.load(path, map_location='cpu')
        self.params = checkpoint['params']
        self.dtype = dtype
        self.reg = checkpoint['reg']
        self.num_layers = checkpoint['num_layers']
        self.use_dropout = checkpoint['use_dropout']
        self.dropout_param = checkpoint['dropout_param']
        for p in self.params:
            self.params[p] = self.params[p].type(dtype).to(device)
        print("load checkpoint file: {}".format(path))
    def loss(self, X, y=None):
        X = X.to(self.dtype)
        mode = 'test' if y is None else 'train'
        if self.use_dropout:
            self.dropout_param['mode'] = mode
        scores = None
        pass
        if mode == 'test':
            return scores
        loss, grads = 0.0, {}
        pass
        return loss, grads
def create_solver_instance(data_dict, dtype, device):
    model = TwoLayerNet(hidden_dim=200, dtype=dtype, device=device)
    solver = None
    pass
    return solver
def get_three_layer_network_params():
    weight_scale = 1e-2
    learning_rate = 1e-4
    pass
    return weight_scale, learning_rate
def get_five_layer_network_params():
    learning_rate = 2e-3
    weight_scale = 1e-5
    pass
    return weight_scale, learning_rate
def sgd(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault('learning_rate', 1e-2)
    w -= config['learning_rate'] * dw
    return w, config
def sgd_momentum(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault('learning_rate', 1e-2)
    config.setdefault('momentum', 0.9)
    v = config.get('velocity', torch.zeros_like(w))
    next_w = None
    pass
    config['velocity'] = v
    return next_w, config
def rmsprop(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault('learning_rate', 1e-2)
    config.setdefault('decay_rate', 0.99)
    config.setdefault('epsilon', 1e-8)
    config.setdefault('cache', torch.zeros_like(w))
    next_w = None
    pass
    return next_w, config
def adam(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault('learning_rate', 1e-3)
    config.setdefault('beta1', 0.9)
    config.setdefault('beta2', 0.999)
    config.setdefault('epsilon', 1e-8)
    config.setdefault('m', torch.zeros_like(w))
    config.setdefault('v', torch.zeros_like(w))
    config.setdefault('t', 0)
    next_w = None
    pass
    return next_w, config
class Dropout(object):
    @staticmethod
    def forward(x, dropout_param):
        p, mode = dropout_param['p'], dropout_param['mode']
        if 'seed' in dropout_param:
            torch.manual_seed(dropout_param['seed'])
        mask = None
        out = None
        if mode == 'train':
            pass
        elif mode == 'test':
            pass
        cache = (dropout_param, mask)
        return out, cache
    @staticmethod
    def backward(dout, cache):
        dropout_param, mask = cache
        mode = dropout_param['mode']
        dx = None
        if mode == 'train':
            pass
        elif mode == 'test':
            dx = dout
        return dx
''',
    },
}
