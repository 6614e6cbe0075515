"""In the style of the TF tutorials "Load and preprocess images", "Data augmentation" and
"TFRecord and tf.train.Example" (the images are made here: no download)."""
import os
import pathlib
import shutil
import tempfile

import numpy as np
import tensorflow as tf

workdir = pathlib.Path(tempfile.mkdtemp())

# -- TFRecord and tf.train.Example --------------------------------------------------------------


def _bytes_feature(value):
    """Returns a bytes_list from a string / byte."""
    if isinstance(value, type(tf.constant(0))):
        value = value.numpy()  # BytesList won't unpack a string from an EagerTensor.
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def _float_feature(value):
    """Returns a float_list from a float / double."""
    return tf.train.Feature(float_list=tf.train.FloatList(value=[value]))


def _int64_feature(value):
    """Returns an int64_list from a bool / enum / int / uint."""
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))


print(_bytes_feature(b'test_string'))
print(_bytes_feature(u'test_bytes'.encode('utf-8')))
print(_float_feature(np.exp(1)))
print(_int64_feature(1))
feature = _float_feature(np.exp(1))
print(feature.SerializeToString())

n_observations = 10
rng = np.random.default_rng(0)
feature0 = rng.choice([0, 1], n_observations)  # (protobuf 5+ refuses bools in Int64List)
feature1 = rng.integers(0, 5, n_observations)
strings = np.array([b'cat', b'dog', b'chicken', b'horse', b'goat'])
feature2 = strings[feature1]
feature3 = np.round(rng.standard_normal(n_observations), 3)


def serialize_example(feature0, feature1, feature2, feature3):
    """Creates a tf.train.Example message ready to be written to a file."""
    feature = {
        'feature0': _int64_feature(feature0),
        'feature1': _int64_feature(feature1),
        'feature2': _bytes_feature(feature2),
        'feature3': _float_feature(feature3),
    }
    example_proto = tf.train.Example(features=tf.train.Features(feature=feature))
    # deterministic: map entries in key order (protobuf's map order changes from run to run)
    return example_proto.SerializeToString(deterministic=True)


serialized_example = serialize_example(0, 4, b'goat', 0.9876)
print(serialized_example)
example_proto = tf.train.Example.FromString(serialized_example)
print(example_proto)

print(tf.data.Dataset.from_tensor_slices(feature1))
features_dataset = tf.data.Dataset.from_tensor_slices((feature0, feature1, feature2, feature3))
print(features_dataset)
for f0, f1, f2, f3 in features_dataset.take(1):
    print(f0)
    print(f1)
    print(f2)
    print(f3)


def generator():
    for features in features_dataset:
        yield serialize_example(*[f.numpy() for f in features])


serialized_features_dataset = tf.data.Dataset.from_generator(
    generator, output_types=tf.string, output_shapes=())
print(serialized_features_dataset)

filename = str(workdir / 'test.tfrecord')
writer = tf.data.experimental.TFRecordWriter(filename)
writer.write(serialized_features_dataset)

filenames = [filename]
raw_dataset = tf.data.TFRecordDataset(filenames)
print(raw_dataset)
for raw_record in raw_dataset.take(3):
    print(repr(raw_record))

feature_description = {
    'feature0': tf.io.FixedLenFeature([], tf.int64, default_value=0),
    'feature1': tf.io.FixedLenFeature([], tf.int64, default_value=0),
    'feature2': tf.io.FixedLenFeature([], tf.string, default_value=''),
    'feature3': tf.io.FixedLenFeature([], tf.float32, default_value=0.0),
}


def _parse_function(example_proto):
    # Parse the input `tf.train.Example` proto using the dictionary above.
    return tf.io.parse_single_example(example_proto, feature_description)


parsed_dataset = raw_dataset.map(_parse_function)
print(parsed_dataset.element_spec)
for parsed_record in parsed_dataset.take(3):
    print(repr(parsed_record))

# Write the `tf.train.Example` observations to the file.
with tf.io.TFRecordWriter(filename) as writer:
    for i in range(n_observations):
        example = serialize_example(feature0[i], feature1[i], feature2[i], feature3[i])
        writer.write(example)

for raw_record in tf.data.TFRecordDataset([filename]).take(1):
    example = tf.train.Example()
    example.ParseFromString(raw_record.numpy())
    print(example)

result = {}
# example.features.feature is the dictionary
for key, feature in sorted(example.features.feature.items()):
    # The values are the Feature objects which contain a `kind` which contains:
    # one of three fields: bytes_list, float_list, int64_list
    kind = feature.WhichOneof('kind')
    result[key] = np.array(getattr(feature, kind).value)
print(result)

batch = tf.io.parse_example([serialize_example(1, 1, b'dog', 0.5),
                             serialize_example(0, 2, b'cow', -1.5)], feature_description)
for key in sorted(batch):
    print(key, batch[key])
var_len = tf.io.parse_example(
    [tf.train.Example(features=tf.train.Features(feature={'tags': tf.train.Feature(
        bytes_list=tf.train.BytesList(value=tags))})).SerializeToString()
     for tags in ([b'a', b'b'], [b'c'])],
    {'tags': tf.io.VarLenFeature(tf.string)})
print(var_len['tags'].indices.numpy().tolist(), var_len['tags'].values.numpy().tolist(),
      var_len['tags'].dense_shape.numpy().tolist())

for compression in ['GZIP', 'ZLIB']:
    options = tf.io.TFRecordOptions(compression_type=compression)
    path = str(workdir / f'compressed_{compression}.tfrecord')
    with tf.io.TFRecordWriter(path, options) as w:
        for i in range(3):
            w.write(serialize_example(i % 2, i, b'x' * i, i / 4))
    ds = tf.data.TFRecordDataset(path, compression_type=compression).map(_parse_function)
    print(compression, [int(r['feature1']) for r in ds], [float(r['feature3']) for r in ds])

x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
serialized = tf.io.serialize_tensor(x)
print(serialized)
print(tf.io.parse_tensor(serialized, out_type=tf.float32))

# -- Load and preprocess images -------------------------------------------------------------------

data_dir = workdir / 'flower_photos'
class_colors = {'daisy': (250, 240, 200), 'roses': (200, 30, 40), 'tulips': (240, 160, 20)}
for c, (name, color) in enumerate(class_colors.items()):
    (data_dir / name).mkdir(parents=True)
    for i in range(4):
        pixels = np.zeros((30 + 5 * i, 40 + 3 * c, 3), np.uint8) + np.array(color, np.uint8)
        pixels[::4] //= 2  # stripes, so resizing has something to average
        tf.io.write_file(str(data_dir / name / f'{i}.png'), tf.io.encode_png(pixels))
        tf.io.write_file(str(data_dir / name / f'{i}.jpg'), tf.io.encode_jpeg(pixels))

image_count = len(list(data_dir.glob('*/*.png')))
print(image_count)
batch_size = 4
img_height = 24
img_width = 32

list_ds = tf.data.Dataset.list_files(str(data_dir / '*/*.png'), shuffle=False)
for f in list_ds.take(3):
    print(os.path.relpath(f.numpy().decode(), workdir))
class_names = np.array(sorted([item.name for item in data_dir.glob('*')]))
print(class_names)

val_size = int(image_count * 0.25)
train_ds = list_ds.skip(val_size)
val_ds = list_ds.take(val_size)
print(tf.data.experimental.cardinality(train_ds).numpy())
print(tf.data.experimental.cardinality(val_ds).numpy())


def get_label(file_path):
    # Convert the path to a list of path components
    parts = tf.strings.split(file_path, os.path.sep)
    # The second to last is the class-directory
    one_hot = parts[-2] == class_names
    # Integer encode the label
    return tf.argmax(one_hot)


def decode_img(img):
    # Convert the compressed string to a 3D uint8 tensor
    img = tf.io.decode_png(img, channels=3)
    # Resize the image to the desired size
    return tf.image.resize(img, [img_height, img_width])


def process_path(file_path):
    label = get_label(file_path)
    # Load the raw data from the file as a string
    img = tf.io.read_file(file_path)
    img = decode_img(img)
    return img, label


AUTOTUNE = tf.data.AUTOTUNE
train_ds = train_ds.map(process_path, num_parallel_calls=AUTOTUNE)
val_ds = val_ds.map(process_path, num_parallel_calls=AUTOTUNE)
for image, label in train_ds.take(1):
    print("Image shape: ", image.numpy().shape)
    print("Label: ", label.numpy())
    print("Pixel mean: ", round(float(tf.reduce_mean(image)), 3))


def configure_for_performance(ds):
    ds = ds.cache()
    ds = ds.batch(batch_size)
    ds = ds.prefetch(buffer_size=AUTOTUNE)
    return ds


train_ds = configure_for_performance(train_ds)
image_batch, label_batch = next(iter(train_ds))
print(image_batch.shape, image_batch.dtype, label_batch.numpy())

normalization_layer = tf.keras.layers.Rescaling(1. / 255)
normalized_ds = train_ds.map(lambda x, y: (normalization_layer(x), y))
image_batch, labels_batch = next(iter(normalized_ds))
first_image = image_batch[0]
print(round(float(np.min(first_image)), 4), round(float(np.max(first_image)), 4))

jpeg_bytes = tf.io.read_file(str(data_dir / 'roses' / '1.jpg'))
print(tf.io.is_jpeg(jpeg_bytes), tf.io.extract_jpeg_shape(jpeg_bytes))
print(tf.io.decode_jpeg(jpeg_bytes).shape, tf.io.decode_image(jpeg_bytes).dtype)
print(tf.image.decode_image(jpeg_bytes, dtype=tf.float32).dtype)

# -- Data augmentation (tf.image) -----------------------------------------------------------------

image = tf.io.decode_png(tf.io.read_file(str(data_dir / 'tulips' / '0.png')))
image = tf.image.convert_image_dtype(image, tf.float32)
print(image.shape, image.dtype)


def show(name, original, augmented):
    print(name, augmented.shape, augmented.dtype,
          round(float(tf.reduce_mean(augmented)), 4),
          round(float(tf.reduce_mean(original)), 4))


show('flipped', image, tf.image.flip_left_right(image))
show('grayscale', image, tf.image.rgb_to_grayscale(image))
show('saturated', image, tf.image.adjust_saturation(image, 3))
show('bright', image, tf.image.adjust_brightness(image, 0.4))
show('cropped', image, tf.image.central_crop(image, central_fraction=0.5))
show('rotated', image, tf.image.rot90(image))
show('hue', image, tf.image.adjust_hue(image, 0.2))
show('contrast', image, tf.image.adjust_contrast(image, 2.0))
show('gamma', image, tf.image.adjust_gamma(image, 2.0))
show('standardized', image, tf.image.per_image_standardization(image))
show('padded', image, tf.image.resize_with_crop_or_pad(image, 40, 50))
show('resized_pad', image, tf.image.resize_with_pad(image, 40, 40))
for method in ['bilinear', 'nearest', 'bicubic', 'area', 'lanczos3', 'gaussian']:
    show(method, image, tf.image.resize(image, [20, 25], method=method, antialias=True))
print(tf.image.convert_image_dtype(image, tf.uint8).dtype)
print(tf.image.total_variation(image).numpy().round(2))
print(tf.image.psnr(image, tf.image.adjust_brightness(image, 0.05), max_val=1.0).numpy().round(3))
print(tf.image.ssim(image[None], image[None], max_val=1.0).numpy())

for i in range(3):
    seed = (i, 0)
    stateless_random_brightness = tf.image.stateless_random_brightness(
        image, max_delta=0.95, seed=seed)
    stateless_random_crop = tf.image.stateless_random_crop(image, size=[20, 20, 3], seed=seed)
    print(stateless_random_brightness.shape, stateless_random_crop.shape)

shutil.rmtree(workdir)
