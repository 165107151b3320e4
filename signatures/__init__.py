"""A signature's life: signing, confirmation, the signatory's own page, the status machine,
proof of the territory, delivery of its emails and the counts snapshot."""
