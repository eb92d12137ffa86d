"""Knowledge tables about living things and everyday sights: animals, colours, the body."""

from __future__ import annotations

from .knowledge_rows import KnowledgeRow, rows_from
from .splits import derived_rng
from .textutil import article, cap

_YOUNG: list[tuple] = [
    ("cat", "kitten", ("puppy", "cub", "foal")),
    ("dog", "puppy", ("kitten", "calf", "lamb")),
    ("cow", "calf", ("foal", "lamb", "kid")),
    ("sheep", "lamb", ("calf", "piglet", "chick")),
    ("horse", "foal", ("calf", "lamb", "cub")),
    ("pig", "piglet", ("lamb", "foal", "kitten")),
    ("duck", "duckling", ("gosling", "chick", "cygnet")),
    ("goose", "gosling", ("duckling", "cygnet", "piglet")),
    ("frog", "tadpole", ("caterpillar", "chick", "cub")),
    ("kangaroo", "joey", ("cub", "calf", "foal")),
    ("bear", "cub", ("foal", "calf", "joey")),
    ("lion", "cub", ("foal", "calf", "kid")),
    ("owl", "owlet", ("eaglet", "duckling", "kitten")),
    ("goat", "kid", ("lamb", "calf", "foal")),
    ("deer", "fawn", ("foal", "cub", "lamb")),
    ("chicken", "chick", ("duckling", "piglet", "lamb")),
    ("swan", "cygnet", ("gosling", "eaglet", "foal")),
    ("elephant", "calf", ("cub", "foal", "joey")),
    ("eagle", "eaglet", ("owlet", "cygnet", "cub")),
    ("whale", "calf", ("cub", "kid", "tadpole")),
]

_SOUNDS: list[tuple] = [
    ("dog", "bark", "barks", ("moo", "neigh", "quack")),
    ("cat", "meow", "meows", ("bark", "oink", "hoot")),
    ("cow", "moo", "moos", ("neigh", "quack", "hiss")),
    ("duck", "quack", "quacks", ("moo", "bark", "roar")),
    ("pig", "oink", "oinks", ("neigh", "meow", "croak")),
    ("horse", "neigh", "neighs", ("moo", "quack", "buzz")),
    ("sheep", "baa", "says baa", ("oink", "roar", "hoot")),
    ("lion", "roar", "roars", ("quack", "meow", "cluck")),
    ("snake", "hiss", "hisses", ("bark", "moo", "neigh")),
    ("owl", "hoot", "hoots", ("oink", "bark", "moo")),
    ("hen", "cluck", "clucks", ("roar", "neigh", "moo")),
    ("bee", "buzz", "buzzes", ("bark", "oink", "roar")),
    ("frog", "croak", "croaks", ("meow", "neigh", "roar")),
    ("wolf", "howl", "howls", ("quack", "moo", "cluck")),
    ("donkey", "bray", "brays", ("quack", "hoot", "buzz")),
    ("mouse", "squeak", "squeaks", ("roar", "moo", "quack")),
    ("turkey", "gobble", "gobbles", ("meow", "roar", "buzz")),
]

_CLASS_PLURAL = {
    "mammal": "mammals", "bird": "birds", "reptile": "reptiles",
    "fish": "fish", "amphibian": "amphibians", "insect": "insects",
}

_CLASSES: list[tuple] = [
    ("dog", "dogs", "mammal"), ("whale", "whales", "mammal"), ("dolphin", "dolphins", "mammal"),
    ("bat", "bats", "mammal"), ("horse", "horses", "mammal"), ("elephant", "elephants", "mammal"),
    ("eagle", "eagles", "bird"), ("penguin", "penguins", "bird"), ("ostrich", "ostriches", "bird"),
    ("owl", "owls", "bird"), ("parrot", "parrots", "bird"),
    ("snake", "snakes", "reptile"), ("crocodile", "crocodiles", "reptile"),
    ("turtle", "turtles", "reptile"), ("lizard", "lizards", "reptile"),
    ("shark", "sharks", "fish"), ("salmon", "salmon", "fish"), ("goldfish", "goldfish", "fish"),
    ("frog", "frogs", "amphibian"), ("toad", "toads", "amphibian"), ("salamander", "salamanders", "amphibian"),
    ("ant", "ants", "insect"), ("bee", "bees", "insect"), ("butterfly", "butterflies", "insect"),
    ("beetle", "beetles", "insect"),
]

_COLORS: list[tuple] = [
    ("a ripe banana", "yellow", ("blue", "purple", "black")),
    ("fresh grass", "green", ("red", "blue", "orange")),
    ("the sky on a clear day", "blue", ("green", "brown", "orange")),
    ("fresh snow", "white", ("green", "red", "brown")),
    ("coal", "black", ("white", "yellow", "pink")),
    ("a carrot", "orange", ("blue", "purple", "white")),
    ("a ripe tomato", "red", ("blue", "white", "gray")),
    ("milk", "white", ("green", "red", "black")),
    ("a lemon", "yellow", ("blue", "purple", "black")),
    ("a lime", "green", ("red", "white", "blue")),
    ("chocolate", "brown", ("blue", "green", "white")),
    ("a strawberry", "red", ("blue", "gray", "black")),
    ("a fire engine", "red", ("green", "purple", "brown")),
    ("a flamingo", "pink", ("green", "black", "blue")),
    ("a crow", "black", ("yellow", "pink", "white")),
    ("the yolk of an egg", "yellow", ("blue", "black", "purple")),
    ("an elephant", "gray", ("green", "pink", "yellow")),
    ("a polar bear", "white", ("green", "red", "blue")),
    ("an eggplant", "purple", ("yellow", "white", "orange")),
    ("a pumpkin", "orange", ("blue", "purple", "black")),
    ("a stop sign", "red", ("blue", "green", "purple")),
]

_BODY: list[tuple] = [
    ("see", "seeing", "eyes", ("ears", "hands", "knees")),
    ("hear", "hearing", "ears", ("eyes", "feet", "elbows")),
    ("smell", "smelling", "nose", ("ears", "knees", "elbows")),
    ("taste food", "tasting food", "tongue", ("ears", "elbow", "knee")),
    ("breathe", "breathing", "lungs", ("stomach", "kidneys", "bones")),
    ("kick a ball", "kicking a ball", "feet", ("hands", "ears", "elbows")),
    ("nod yes", "nodding yes", "head", ("knee", "foot", "elbow")),
    ("think", "thinking", "brain", ("stomach", "heart", "liver")),
    ("chew food", "chewing food", "teeth", ("ears", "eyes", "toes")),
    ("walk", "walking", "legs", ("arms", "ears", "shoulders")),
    ("hold a pencil", "holding a pencil", "hands", ("feet", "knees", "ears")),
    ("bend the arm", "bending the arm", "elbow", ("knee", "ankle", "neck")),
]


def _class_rows(seed: int) -> list[KnowledgeRow]:
    """Animal-class rows; wrong options are the other classes, picked with a derived seed."""
    rows: list[KnowledgeRow] = []
    classes = sorted(_CLASS_PLURAL)
    for animal, plural, klass in _CLASSES:
        others = [c for c in classes if c != klass]
        wrong = tuple(derived_rng(seed, "animal_classes", animal).sample(others, 3))
        rows.append(
            KnowledgeRow(
                category="animal_classes",
                question=f"What kind of animal is {article(animal)}?",
                answer=klass,
                distractors=wrong,
                facts=(
                    f"{cap(article(animal))} is {article(klass) if klass != 'fish' else 'a fish'}.",
                    f"{cap(plural)} belong to the group of animals called {_CLASS_PLURAL[klass]}.",
                ),
            )
        )
    return rows


def nature_rows(seed: int) -> list[KnowledgeRow]:
    """All nature rows in table order."""
    rows = rows_from(
        "animal_young", _YOUNG,
        question="What is a young {animal} called?",
        facts=("A baby {animal} is known as {a_young}.",
               "When {a_animal} has babies, each one is called {a_young}."),
        answer_key="young", distractor_key="wrong", fields=("animal", "young", "wrong"),
        derived={"a_young": lambda v: article(v["young"]), "a_animal": lambda v: article(v["animal"])},
    )
    rows += rows_from(
        "animal_sounds", _SOUNDS,
        question="What sound does {a_animal} make?",
        facts=("{A_animal} {verb}.",
               "The noise you hear from {a_animal} is called {a_sound}."),
        answer_key="sound", distractor_key="wrong", fields=("animal", "sound", "verb", "wrong"),
        derived={"a_animal": lambda v: article(v["animal"]), "A_animal": lambda v: cap(article(v["animal"])),
                 "a_sound": lambda v: article(v["sound"])},
    )
    rows += _class_rows(seed)
    rows += rows_from(
        "colors", _COLORS,
        question="What color is {thing}?",
        facts=("{Thing} is {color}.",
               "If you look at {thing}, you will see that its color is {color}."),
        answer_key="color", distractor_key="wrong", fields=("thing", "color", "wrong"),
        derived={"Thing": lambda v: cap(v["thing"])},
    )
    rows += rows_from(
        "body_parts", _BODY,
        question="Which part of the body do people use to {verb}?",
        facts=("People {verb} with their {part}.",
               "{Verbing} is the job of the {part}."),
        answer_key="part", distractor_key="wrong", fields=("verb", "verbing", "part", "wrong"),
        derived={"Verbing": lambda v: cap(v["verbing"])},
    )
    return rows
