-- A few rows to try the example with (the tests make their own).
INSERT INTO webshop.products (sku, title, description, price) VALUES
    ('MUG-1', 'Krus', 'Et stort krus i stentøj, tåler opvaskemaskine', 89.00),
    ('TEE-2', 'T-shirt', 'Økologisk bomuld, unisex pasform', 199.00);
INSERT INTO webshop.addresses (street, postal_code, city) VALUES ('Vestergade 12', '8000', 'Aarhus C');
INSERT INTO webshop.customers (first_name, last_name, email, phone, birth_date, address_id)
VALUES ('Karen', 'Blixensen', 'karen.blixensen@example.dk', '+45 22334455', '1985-04-17', 1);
INSERT INTO webshop.orders (customer_id, placed_at, total, shipping_note)
VALUES (1, '2026-03-02 10:00+01', 288.00, 'Stil pakken ved døren, ring til Karen på +45 22334455');
INSERT INTO webshop.order_lines (order_id, line_no, product_id, quantity, unit_price, gift_message)
VALUES (1, 1, 1, 1, 89.00, 'Tillykke Karen!'), (1, 2, 2, 1, 199.00, NULL);
INSERT INTO webshop.payments (customer_id, paid_at, amount, method, iban)
VALUES (1, '2026-03-02 10:01+01', 288.00, 'transfer', 'DK5000400440116243');
INSERT INTO webshop.reviews (customer_id, product_id, rating, body)
VALUES (1, 1, 5, 'Fantastisk krus, købt af Karen Blixensen til hele familien');
INSERT INTO webshop.support_tickets (customer_id, topic, details)
VALUES (1, 'delivery', '{"name": "Karen Blixensen", "email": "karen.blixensen@example.dk",
                         "phone": "+45 22334455", "message": "Hvor er min pakke?"}');
