"""Reading scans (読取): image I/O, preprocessing, identification, alignment, recognition, OMR."""
