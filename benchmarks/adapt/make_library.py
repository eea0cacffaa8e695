# Builds library.db, a small database of our own for choosing gpt4j adapt's settings without Spider or WikiSQL dev
# data (see library-questions.tsv). Deterministic: python3 make_library.py writes the same file every time.
import random, sqlite3, os
random.seed(7)
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "library.db")
if os.path.exists(path): os.remove(path)
db = sqlite3.connect(path)
db.executescript(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "library.sql")).read())
countries = ["France", "Nigeria", "Japan", "Chile", "Canada", "Norway", "India"]
first = ["Ama", "Boris", "Clara", "Dev", "Elena", "Femi", "Goro", "Hana", "Ivan", "Jon", "Keiko", "Luis", "Mira", "Nils", "Omar", "Pia",
         "Quinn", "Rosa", "Sami", "Tove"]
last = ["Okafor", "Larsen", "Tanaka", "Moreau", "Singh", "Rojas", "Berg", "Dubois", "Kato", "Eze"]
authors = []
for i in range(1, 21):
    name = first[i - 1] + " " + random.choice(last)
    authors.append((i, name, random.choice(countries), random.randint(1930, 1990)))
db.executemany("INSERT INTO author VALUES (?,?,?,?)", authors)
genres = ["Mystery", "Poetry", "History", "Science", "Romance", "Fantasy"]
words = ["River", "Night", "Garden", "Stone", "Winter", "Letters", "Island", "Mirror", "Silence", "Harbor", "Orchard", "Lantern"]
books = []
for i in range(1, 61):
    title = "The " + random.choice(words) + " " + random.choice(["of", "and", "in"]) + " " + random.choice(words)
    books.append((i, title + (" " + str(i) if any(b[1] == title for b in books) else ""), random.randint(1, 20), random.choice(genres),
                  random.randint(1960, 2023), random.randint(90, 700), round(random.uniform(5, 45), 2)))
db.executemany("INSERT INTO book VALUES (?,?,?,?,?,?,?)", books)
cities = ["Oslo", "Lagos", "Kyoto", "Lyon", "Quito", "Perth"]
members = []
for i in range(1, 31):
    members.append((i, random.choice(first) + " " + random.choice(last) + ("" if i < 25 else " Jr"), random.choice(cities), random.randint(2010, 2024),
                    random.randint(16, 80)))
db.executemany("INSERT INTO member VALUES (?,?,?,?,?)", members)
loans = []
for i in range(1, 121):
    y, m, d = random.randint(2019, 2024), random.randint(1, 12), random.randint(1, 28)
    loans.append((i, random.randint(1, 60), random.randint(1, 28), "%04d-%02d-%02d" % (y, m, d), random.randint(3, 40)))
db.executemany("INSERT INTO loan VALUES (?,?,?,?,?)", loans)
db.commit()
db.close()
