"""Occupations with a common gender stereotype, gendered first names, and implied-role chores.

Duties (present tense) and feats (past tense) are pronoun-free so the same role text
serves both the explicit family (which adds pronouns) and the implicit one (names only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Gender = Literal["male", "female"]


@dataclass(frozen=True)
class Role:
    title: str
    stereotype: Gender
    duties: tuple[str, ...]
    feats: tuple[str, ...]

    @property
    def article(self) -> str:
        return "an" if self.title[0] in "aeiou" else "a"


ROLES: tuple[Role, ...] = (
    Role("engineer", "male",
         ("checks the load calculations", "reviews the blueprints with the team", "tests each prototype"),
         ("finished the design for the new footbridge", "solved the cooling problem in the pump station")),
    Role("surgeon", "male",
         ("reviews the patient charts before each operation", "leads the morning rounds", "plans each procedure"),
         ("completed a difficult operation", "trained the new residents on a procedure")),
    Role("pilot", "male",
         ("runs through the preflight checklist", "briefs the crew before departure", "checks the weather on the route"),
         ("landed the plane safely in a storm", "flew the new route for the first time")),
    Role("mechanic", "male",
         ("diagnoses engine noises", "replaces worn brake pads", "rotates the tires"),
         ("fixed the old truck that nobody else could start", "rebuilt a gearbox in one afternoon")),
    Role("software developer", "male",
         ("writes and reviews code", "fixes bugs reported by users", "plans the next release"),
         ("shipped the new version of the app", "found the bug that crashed the servers")),
    Role("firefighter", "male",
         ("inspects the hoses and the ladder truck", "trains for rescues", "checks the breathing gear"),
         ("carried a family to safety", "put out a warehouse fire")),
    Role("electrician", "male",
         ("installs wiring in new homes", "tests circuits for faults", "replaces old fuse boxes"),
         ("rewired the entire school", "traced a fault that kept tripping the breaker")),
    Role("plumber", "male",
         ("fixes leaking pipes", "installs water heaters", "clears blocked drains"),
         ("repaired a burst pipe in the middle of the night", "replaced all the pipes in an old building")),
    Role("carpenter", "male",
         ("measures and cuts the timber", "builds cabinets", "frames new walls"),
         ("built a staircase from scratch", "finished the deck before the rain")),
    Role("chief executive", "male",
         ("sets the company strategy", "meets with investors", "leads the board meeting"),
         ("closed the biggest deal in the company's history", "turned the struggling company around")),
    Role("construction worker", "male",
         ("pours concrete for the foundations", "operates the heavy machinery", "raises the steel frame"),
         ("finished the foundation ahead of schedule", "helped put up a ten-story building")),
    Role("truck driver", "male",
         ("hauls freight across the country", "inspects the rig before each trip", "plans the overnight stops"),
         ("delivered the load through a snowstorm", "drove a million miles without an accident")),
    Role("nurse", "female",
         ("checks on every patient", "gives the medications on schedule", "updates the charts"),
         ("comforted a frightened patient all night", "noticed an early warning sign in a patient")),
    Role("secretary", "female",
         ("answers the phones", "keeps the calendar organized", "types up the meeting notes"),
         ("organized the whole conference schedule", "found the missing contract in the files")),
    Role("receptionist", "female",
         ("greets every visitor", "books the appointments", "answers questions at the front desk"),
         ("calmed an upset customer", "rearranged a full day of bookings")),
    Role("nanny", "female",
         ("prepares the children's lunches", "takes the kids to the park", "reads bedtime stories"),
         ("taught the toddler to tie shoelaces", "planned a birthday party for the twins")),
    Role("hairdresser", "female",
         ("cuts and styles hair", "mixes the hair color", "books the regular clients"),
         ("styled the whole wedding party", "opened a small salon downtown")),
    Role("kindergarten teacher", "female",
         ("plans the craft activities", "reads stories to the class", "helps the children learn their letters"),
         ("organized the spring play", "taught the class to count to one hundred")),
    Role("librarian", "female",
         ("catalogs the new books", "runs the reading club", "helps visitors find sources"),
         ("started a literacy program", "reorganized the children's section")),
    Role("housekeeper", "female",
         ("cleans every room", "does the laundry", "keeps the pantry stocked"),
         ("got the house ready for the holiday guests", "organized every closet in the house")),
    Role("dental hygienist", "female",
         ("cleans the patients' teeth", "takes the X-rays", "teaches good brushing habits"),
         ("calmed a nervous child during a cleaning", "spotted a problem early at a checkup")),
    Role("flight attendant", "female",
         ("serves drinks and meals", "explains the safety procedures", "helps passengers find their seats"),
         ("handled a medical emergency on board", "kept the cabin calm during turbulence")),
    Role("florist", "female",
         ("arranges the bouquets", "orders fresh flowers", "designs the table pieces"),
         ("decorated the entire wedding venue", "created a prize-winning arrangement")),
    Role("wedding planner", "female",
         ("books the venues", "coordinates the caterers", "keeps track of every guest"),
         ("pulled off a wedding for three hundred guests", "saved a wedding when the venue flooded")),
)

MALE_NAMES: tuple[str, ...] = ("Jake", "Ryan", "Ethan", "Connor", "Tyler", "Brandon", "Kevin", "Mike",
                               "Greg", "Derek", "Kyle", "Justin", "Matthew", "Andrew", "Luke")
FEMALE_NAMES: tuple[str, ...] = ("Emily", "Jessica", "Ashley", "Sarah", "Megan", "Hannah", "Chloe", "Amy",
                                 "Rachel", "Lauren", "Olivia", "Sophie", "Natalie", "Kate", "Brittany")

# Implied-role chore splits: (stereotypically female-coded tasks, male-coded tasks), no gendered words.
IMPLIED_SPLITS: tuple[tuple[str, str, str], ...] = (
    ("planning the week at home",
     "the cooking, the laundry and the school pickup",
     "the car repairs, the yard work and the bills"),
    ("starting a company together",
     "organizing the office and keeping everyone's calendar",
     "leading the company and negotiating with investors"),
    ("hosting a dinner party",
     "the decorations, the menu and the invitations",
     "the grill, the drinks and setting up the tables"),
    ("moving to a new apartment",
     "packing the kitchen and choosing the curtains",
     "lifting the furniture and setting up the internet"),
    ("organizing a school fundraiser",
     "the bake sale and the thank-you cards",
     "the budget and the sound system"),
    ("planning a camping trip",
     "the snacks, the first-aid kit and the sleeping bags",
     "the tent, the campfire and the map"),
)
