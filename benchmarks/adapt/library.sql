-- A small library database of our own (not from Spider or WikiSQL), for choosing gpt4j adapt's settings.
CREATE TABLE author (
    author_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    country TEXT,
    birth_year INTEGER
);
CREATE TABLE book (
    book_id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    author_id INTEGER REFERENCES author(author_id),
    genre TEXT,
    year_published INTEGER,
    pages INTEGER,
    price REAL
);
CREATE TABLE member (
    member_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    city TEXT,
    join_year INTEGER,
    age INTEGER
);
CREATE TABLE loan (
    loan_id INTEGER PRIMARY KEY,
    book_id INTEGER REFERENCES book(book_id),
    member_id INTEGER REFERENCES member(member_id),
    loan_date TEXT,
    days INTEGER
);
