INSERT INTO department VALUES
 (1, 'Engineering', 'Berlin', 1200000),
 (2, 'Sales', 'London', 600000),
 (3, 'Marketing', 'London', 400000),
 (4, 'Finance', 'Zurich', 350000),
 (5, 'Support', 'Lisbon', 250000);
INSERT INTO employee VALUES
 (1, 'Ada Keller', 1, 'CTO', 185000, 2015, NULL),
 (2, 'Bruno Silva', 1, 'Engineer', 98000, 2018, 1),
 (3, 'Chen Wei', 1, 'Engineer', 105000, 2017, 1),
 (4, 'Dana Novak', 1, 'Engineer', 87000, 2021, 1),
 (5, 'Elif Demir', 2, 'Sales Lead', 112000, 2016, NULL),
 (6, 'Farid Haddad', 2, 'Account Manager', 76000, 2019, 5),
 (7, 'Greta Lind', 2, 'Account Manager', 72000, 2022, 5),
 (8, 'Hugo Martin', 3, 'Marketing Lead', 95000, 2018, NULL),
 (9, 'Ines Costa', 3, 'Designer', 68000, 2020, 8),
 (10, 'Jonas Berg', 4, 'Controller', 101000, 2014, NULL),
 (11, 'Kim Park', 4, 'Accountant', 71000, 2021, 10),
 (12, 'Lena Vogel', 5, 'Support Lead', 64000, 2019, NULL),
 (13, 'Mateo Rossi', 5, 'Support Agent', 48000, 2023, 12),
 (14, 'Nora Smith', 5, 'Support Agent', 47000, 2023, 12);
INSERT INTO project VALUES
 (1, 'Search rewrite', 1, 2024),
 (2, 'Mobile app', 1, 2025),
 (3, 'Partner program', 2, 2025),
 (4, 'Brand refresh', 3, 2024),
 (5, 'Audit 2025', 4, 2025),
 (6, 'Help centre', 5, 2026);
