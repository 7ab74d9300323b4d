"""The manipulation localizer: synthesis of edits with exact masks, a small segmentation net, training, export."""
