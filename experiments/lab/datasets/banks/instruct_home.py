"""Neutral instruction tasks: personal finance and cooking. Gender-free, no world facts."""

from __future__ import annotations

from .tasks import Task

FINANCE: tuple[Task, ...] = (
    Task(
        key="finance.bank_fees",
        domain="finance",
        prompts=(
            "My bank keeps charging me {fee}. How can I avoid it?",
            "Is there a way to stop paying {fee} every month?",
        ),
        answer=(
            "Read your account's fee schedule to see exactly what triggers the charge.",
            "Many banks waive it if you keep a minimum balance or set up a regular direct deposit.",
            "If neither works for you, compare accounts with no monthly fee at other banks or credit unions.",
        ),
        slots={"fee": ("a monthly maintenance fee", "overdraft fees", "a paper statement fee", "ATM fees",
                       "a low balance fee")},
    ),
    Task(
        key="finance.records",
        domain="finance",
        prompts=(
            "How long should I keep {document}?",
            "Do I need to keep {document} or can I shred them?",
        ),
        answer=(
            "Keep anything that supports a tax return for several years, since past returns can be reviewed.",
            "Routine statements can usually go once you have checked them against your yearly summaries.",
            "Shred papers that show account numbers instead of throwing them away, or keep scans in an encrypted folder.",
        ),
        slots={"document": ("old bank statements", "pay stubs", "receipts for large purchases", "tax records",
                            "utility bills")},
    ),
    Task(
        key="finance.debt",
        domain="finance",
        prompts=(
            "What's the best way to pay off {debt}?",
            "I have {debt}. Where should I start?",
        ),
        answer=(
            "Keep making at least the minimum payment on everything so you avoid late fees.",
            "Put any extra money toward the balance with the highest interest rate, or the smallest balance if quick wins keep you motivated.",
            "Ask your lender about a lower rate or a payment plan, and avoid adding new charges while you pay down the balance.",
        ),
        slots={"debt": ("several credit card balances", "a large credit card balance", "a personal loan and a card balance",
                        "medical bills on a card")},
    ),
    Task(
        key="finance.credit_score",
        domain="finance",
        prompts=(
            "How can I improve my credit score {context}?",
            "What actually raises a credit score {context}?",
        ),
        answer=(
            "Pay every bill on time, since payment history usually matters most.",
            "Keep the balances on your cards well below their limits, and avoid opening many new accounts at once.",
            "Check your credit report for errors once a year and dispute anything that is wrong.",
        ),
        slots={"context": ("before applying for a loan", "after a missed payment", "as a student",
                           "over the next year")},
    ),
    Task(
        key="finance.loans",
        domain="finance",
        prompts=(
            "How do I compare offers for {loan}?",
            "I got two offers for {loan}. How do I pick the better one?",
        ),
        answer=(
            "Compare the annual percentage rate, which includes fees, rather than the headline interest rate alone.",
            "Look at the total amount you would repay over the whole term and whether there is a penalty for paying early.",
            "Make sure the monthly payment fits your budget with room to spare.",
        ),
        slots={"loan": ("a car loan", "a personal loan", "a mortgage", "a student loan refinance")},
    ),
    Task(
        key="finance.goal",
        domain="finance",
        prompts=(
            "How can I save for {goal} in {months} months?",
            "I want to buy {goal} within {months} months. How should I plan?",
        ),
        answer=(
            "Divide the cost of {goal} by the number of months to get a monthly savings target.",
            "Set up an automatic transfer for that amount to a separate account on payday.",
            "Cut one or two regular expenses and put the difference toward the goal so progress stays steady.",
        ),
        slots={"goal": ("a vacation", "a used car", "a new laptop", "a down payment", "a bicycle"),
               "months": ("six", "nine", "twelve", "eighteen")},
    ),
    Task(
        key="finance.retirement",
        domain="finance",
        prompts=(
            "When should I start saving for retirement if I'm {age}?",
            "I'm {age}. Is it too late or too early to save for retirement?",
        ),
        answer=(
            "It is rarely too early or too late; money saved earlier has more time to grow.",
            "If your employer matches contributions to a retirement plan, contribute at least enough to get the full match.",
            "Increase your contribution a little each time your pay goes up.",
        ),
        slots={"age": ("twenty-two", "thirty", "forty-five", "fifty-five")},
    ),
)

COOKING: tuple[Task, ...] = (
    Task(
        key="cooking.onions",
        domain="cooking",
        prompts=(
            "How do I caramelize {onions} without burning them?",
            "My caramelized {onions} always scorch. What am I doing wrong?",
        ),
        answer=(
            "Slice the {onions} evenly so they cook at the same pace, and use a wide pan with a little oil or butter.",
            "Keep the heat at medium-low and stir every few minutes; proper caramelizing takes thirty to forty-five minutes.",
            "If they start to stick, add a splash of water and scrape up the browned bits.",
        ),
        slots={"onions": ("onions", "red onions", "sweet onions", "yellow onions", "shallots")},
    ),
    Task(
        key="cooking.freeze",
        domain="cooking",
        prompts=(
            "Can I freeze {food}?",
            "What's the best way to freeze {food} so it tastes good later?",
        ),
        answer=(
            "Yes; let the {food} cool completely first, then pack it in airtight containers or freezer bags with the air pressed out.",
            "Label each package with the date, and try to use it within two to three months for the best flavor.",
            "Thaw it overnight in the fridge rather than on the counter.",
        ),
        slots={"food": ("homemade soup", "leftover chili", "cooked beans", "muffins", "a loaf of bread", "pasta sauce")},
    ),
    Task(
        key="cooking.leftovers",
        domain="cooking",
        prompts=(
            "How long can I keep leftover {food} in the fridge?",
            "What's the safest way to store and reheat {food}?",
        ),
        answer=(
            "Cool the {food} quickly and put it in a sealed container in the fridge within two hours of cooking.",
            "Most cooked leftovers are best eaten within three to four days.",
            "Reheat until steaming hot all the way through, and only reheat a portion once.",
        ),
        slots={"food": ("soup", "cooked rice", "roast vegetables", "pasta", "chili", "stew")},
    ),
    Task(
        key="cooking.vinaigrette",
        domain="cooking",
        prompts=(
            "How do I make a simple salad dressing with {acid}?",
            "Can you give me a basic vinaigrette using {acid}?",
        ),
        answer=(
            "Whisk one part {acid} with about three parts oil, plus a pinch of salt.",
            "A spoonful of mustard or honey helps the dressing stay mixed and rounds out the flavor.",
            "Taste it on a leaf of the salad and adjust the salt and acidity before serving.",
        ),
        slots={"acid": ("lemon juice", "red wine vinegar", "apple cider vinegar", "lime juice", "balsamic vinegar")},
    ),
    Task(
        key="cooking.roast",
        domain="cooking",
        prompts=(
            "How do I roast {veg} in the oven?",
            "What temperature and time work for roasting {veg}?",
            "My roasted {veg} come out soggy. How do I get them crisp?",
        ),
        answer=(
            "Heat the oven to about 220 degrees Celsius and cut the {veg} into even pieces.",
            "Toss them with oil and salt and spread them in a single layer with space between pieces.",
            "Roast for about {minutes} minutes, turning once halfway, until the edges are browned.",
        ),
        slots={"veg": (
            {"veg": "carrots", "minutes": "twenty-five"},
            {"veg": "potatoes", "minutes": "thirty-five"},
            {"veg": "broccoli florets", "minutes": "twenty"},
            {"veg": "cauliflower florets", "minutes": "twenty-five"},
            {"veg": "sweet potatoes", "minutes": "thirty"},
        )},
    ),
    Task(
        key="cooking.salty",
        domain="cooking",
        prompts=(
            "I added too much salt to my {dish}. Can I fix it?",
            "How do I rescue an oversalted {dish}?",
        ),
        answer=(
            "The most reliable fix is to add more of the unsalted base, such as water, stock without salt, or extra vegetables.",
            "A squeeze of lemon or a splash of vinegar can also make the saltiness less noticeable.",
            "Add small amounts and taste as you go so you do not overcorrect.",
        ),
        slots={"dish": ("soup", "stew", "pasta sauce", "curry", "chili")},
    ),
    Task(
        key="cooking.eggs",
        domain="cooking",
        prompts=(
            "How long should I boil eggs for {style} yolks?",
            "What's the method for {style} boiled eggs?",
        ),
        answer=(
            "Lower the eggs gently into water that is already boiling.",
            "Cook them for about {minutes} minutes for {style} yolks.",
            "Move them straight into cold water to stop the cooking and make them easier to peel.",
        ),
        slots={"style": (
            {"style": "runny", "minutes": "six"},
            {"style": "jammy", "minutes": "seven"},
            {"style": "firm", "minutes": "ten"},
        )},
    ),
)
