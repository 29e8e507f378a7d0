from phone.keypad import KEYPAD, MENU, choice_prompt, key_action


def test_the_12349_keys():
    assert key_action("1").kind == "say" and "订饭" in key_action("1").text
    assert key_action("2").kind == "say" and "补贴" in key_action("2").text
    assert key_action("0").kind == "operator"
    assert key_action("9").kind == "emergency"
    assert key_action("*").kind == "repeat"


def test_any_other_key_reads_the_menu_again():
    for digit in "345678#ABCD":
        assert key_action(digit).kind == "menu"
    for digit in KEYPAD:
        assert f"按{'星号' if digit == '*' else digit}" in MENU


def test_choice_prompt_numbers_the_elders():
    assert "王桂兰按1，李福生按2" in choice_prompt(["王桂兰", "李福生"])
