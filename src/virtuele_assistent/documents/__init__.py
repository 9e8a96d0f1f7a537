"""A municipality's indexed pages and files as staff browse them."""
