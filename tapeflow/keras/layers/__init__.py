"""`keras.layers`: the layers, by family module. This file only re-exports."""
from tapeflow.keras.engine.functional import Input, InputLayer  # noqa: F401
from tapeflow.keras.engine.layer import Layer  # noqa: F401
from tapeflow.keras.layers.activation_layers import ELU, LeakyReLU, ReLU, Softmax  # noqa: F401
from tapeflow.keras.layers.core import (Activation, Dense, Dropout, Flatten,  # noqa: F401
                                        Identity, Lambda, Reshape)
from tapeflow.keras.layers.merging import (Add, Average, Concatenate, Maximum,  # noqa: F401
                                           Minimum, Multiply, Subtract, add, average,
                                           concatenate, maximum, minimum, multiply, subtract)
from tapeflow.keras.layers.preprocessing import Normalization, Rescaling  # noqa: F401
from tapeflow.keras.layers.serialization import deserialize, serialize  # noqa: F401
from tapeflow.keras.layers.convolutional import (Conv1D, Conv1DTranspose, Conv2D,  # noqa: F401
                                                 Conv2DTranspose, Conv3D, Conv3DTranspose,
                                                 Convolution1D, Convolution2D, Convolution3D,
                                                 Convolution2DTranspose, DepthwiseConv2D,
                                                 SeparableConv2D)
from tapeflow.keras.layers.normalization import (BatchNormalization,  # noqa: F401
                                                 LayerNormalization)
from tapeflow.keras.layers.pooling import (AveragePooling1D, AveragePooling2D,  # noqa: F401
                                           AveragePooling3D, AvgPool1D, AvgPool2D, AvgPool3D,
                                           GlobalAveragePooling1D, GlobalAveragePooling2D,
                                           GlobalAveragePooling3D, GlobalAvgPool1D,
                                           GlobalAvgPool2D, GlobalAvgPool3D, GlobalMaxPool1D,
                                           GlobalMaxPool2D, GlobalMaxPool3D,
                                           GlobalMaxPooling1D, GlobalMaxPooling2D,
                                           GlobalMaxPooling3D, MaxPool1D, MaxPool2D, MaxPool3D,
                                           MaxPooling1D, MaxPooling2D, MaxPooling3D)
from tapeflow.keras.layers.regularization import (GaussianDropout, GaussianNoise,  # noqa: F401
                                                  SpatialDropout1D, SpatialDropout2D,
                                                  SpatialDropout3D)
from tapeflow.keras.layers.reshaping import (Cropping1D, Cropping2D, Cropping3D,  # noqa: F401
                                             UpSampling1D, UpSampling2D, ZeroPadding1D,
                                             ZeroPadding2D, ZeroPadding3D)
from tapeflow.keras.layers.embedding import Embedding, Masking  # noqa: F401
from tapeflow.keras.layers.rnn import RNN, StackedRNNCells  # noqa: F401
from tapeflow.keras.layers.recurrent import (GRU, LSTM, GRUCell, LSTMCell,  # noqa: F401
                                             SimpleRNN, SimpleRNNCell)
from tapeflow.keras.layers.wrappers import Bidirectional, TimeDistributed  # noqa: F401
from tapeflow.keras.layers.attention import Attention, MultiHeadAttention  # noqa: F401
from tapeflow.keras.layers.image_preprocessing import (CenterCrop, RandomCrop,  # noqa: F401
                                                      RandomFlip, RandomRotation,
                                                      RandomTranslation, RandomZoom, Resizing)
