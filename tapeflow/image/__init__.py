"""`tf.image`: re-exports of the image ops (tapeflow/ops/image_*.py)."""
from tapeflow.ops.image_adjust import (adjust_brightness, adjust_contrast,  # noqa: F401
                                       adjust_gamma, adjust_hue, adjust_saturation,
                                       per_image_standardization, random_brightness,
                                       random_contrast, random_hue, random_saturation,
                                       stateless_random_brightness, stateless_random_contrast,
                                       stateless_random_hue, stateless_random_saturation)
from tapeflow.ops.image_codec import (decode_bmp, decode_gif, decode_image,  # noqa: F401
                                      decode_jpeg, decode_png, encode_jpeg, encode_png,
                                      extract_jpeg_shape, is_jpeg)
from tapeflow.ops.image_color import (convert_image_dtype, grayscale_to_rgb,  # noqa: F401
                                      hsv_to_rgb, rgb_to_grayscale, rgb_to_hsv, rgb_to_yiq,
                                      rgb_to_yuv, yiq_to_rgb, yuv_to_rgb)
from tapeflow.ops.image_geometry import (central_crop, crop_to_bounding_box,  # noqa: F401
                                         extract_patches, flip_left_right, flip_up_down,
                                         pad_to_bounding_box, random_crop,
                                         random_flip_left_right, random_flip_up_down,
                                         resize_with_crop_or_pad, rot90,
                                         stateless_random_crop,
                                         stateless_random_flip_left_right,
                                         stateless_random_flip_up_down, transpose)
from tapeflow.ops.image_metrics import (image_gradients, psnr, sobel_edges, ssim,  # noqa: F401
                                        ssim_multiscale, total_variation)
from tapeflow.ops.image_resize import ResizeMethod, resize, resize_with_pad  # noqa: F401
from tapeflow.ops.image_transform import crop_and_resize  # noqa: F401
